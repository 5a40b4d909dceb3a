package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
)

// Requests from the server to the client over stdio: elicitation/create
// for clients on protocol versions before 2026-07-28. mcp-go's session
// interface for them (SessionWithElicitation) needs a transport that
// routes the client's answers back to the waiting call, which Stdio does
// through clientRequests.

var _ mcpserver.SessionWithElicitation = (*stdioSession)(nil)

// errClientGone: stdin ended, so no answer can arrive.
var errClientGone = errors.New("the client closed its input; no answer can arrive")

// clientRequests sends requests to the client and hands each answer to
// the call waiting for it. It holds one entry per waiting call, so the
// cap on calls in flight bounds it.
type clientRequests struct {
	mu      sync.Mutex
	send    func(ctx context.Context, line []byte) error
	next    int64
	waiting map[int64]chan clientAnswer
	stopped bool
}

// clientAnswer is a JSON-RPC response from the client.
type clientAnswer struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// start sets how requests reach stdout.
func (c *clientRequests) start(send func(ctx context.Context, line []byte) error) {
	c.mu.Lock()
	c.send = send
	c.waiting = make(map[int64]chan clientAnswer)
	c.mu.Unlock()
}

// stop fails every waiting request and refuses new ones: stdin has ended.
func (c *clientRequests) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	for id, ch := range c.waiting {
		close(ch)
		delete(c.waiting, id)
	}
}

// call sends method with params and waits for the answer or ctx.
func (c *clientRequests) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	if c.stopped || c.send == nil {
		c.mu.Unlock()
		return nil, errClientGone
	}
	c.next++
	id := c.next
	ch := make(chan clientAnswer, 1)
	c.waiting[id] = ch
	send := c.send
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiting, id)
		c.mu.Unlock()
	}()

	line, err := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		ID      int64  `json:"id"`
		Method  string `json:"method"`
		Params  any    `json:"params"`
	}{mcp.JSONRPC_VERSION, id, method, params})
	if err != nil {
		return nil, fmt.Errorf("%s: encode: %w", method, err)
	}
	if err := send(ctx, line); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case ans, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%s: %w", method, errClientGone)
		}
		if ans.Error != nil {
			return nil, fmt.Errorf("%s: the client answered error %d: %s", method, ans.Error.Code, ans.Error.Message)
		}
		return ans.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// deliver hands a response line to the call waiting for id, and reports
// whether one was. A response nobody waits for (a late answer to a call
// that gave up) is dropped by the caller.
func (c *clientRequests) deliver(id json.RawMessage, line []byte) bool {
	var n int64
	if json.Unmarshal(id, &n) != nil {
		return false
	}
	var ans clientAnswer
	if json.Unmarshal(line, &ans) != nil || (ans.Result == nil && ans.Error == nil) {
		return false
	}
	c.mu.Lock()
	ch, ok := c.waiting[n]
	if ok {
		delete(c.waiting, n)
	}
	c.mu.Unlock()
	if ok {
		ch <- ans // buffered: never blocks the read loop
	}
	return ok
}

// RequestElicitation sends elicitation/create to the client and waits for
// the user's answer or ctx. mcp-go calls it from MCPServer.RequestElicitation
// and RequestURLElicitation.
func (s *stdioSession) RequestElicitation(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	raw, err := s.requests.call(ctx, string(mcp.MethodElicitationCreate), req.Params)
	if err != nil {
		return nil, err
	}
	var res mcp.ElicitationResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("elicitation/create: the client's answer is not an elicitation result: %w", err)
	}
	return &res, nil
}

// sendContext queues b for stdout like send, but gives up when ctx ends:
// a request of ours must not wait forever on a client that stopped
// reading.
func (w *lineWriter) sendContext(ctx context.Context, b []byte) error {
	select {
	case w.queue <- b:
		return nil
	case <-w.done:
		return errClientGone
	case <-ctx.Done():
		return ctx.Err()
	}
}
