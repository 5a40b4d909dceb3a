package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
)

// Bounds of the stdio transport. mcp-go's own stdio server has none that
// hold against a client that floods or stops reading (a goroutine and a
// buffered answer per request, the read loop running calls itself once
// 100 are queued, calls cancelled when stdin closes), so clerk-mcp serves
// stdio itself and hands each message to mcp-go's MCPServer.
const (
	// DefaultMaxCalls is how many tools/call may run at once. Agents run a
	// few calls in parallel; a call over the cap is answered at once with
	// the retryable reason busy rather than queued. Queueing (or
	// not reading stdin) would hold pings, cancellations and the end of
	// stdin behind slow calls; an immediate answer keeps the read loop free
	// and tells the agent what to do.
	DefaultMaxCalls = 8
	// DefaultMaxLine bounds one JSON-RPC message. A line is held whole
	// while its call runs, so this times DefaultMaxCalls bounds what calls
	// can pin. A longer line is not kept: it is scanned for its id and
	// method only, and answered invalid_input.
	DefaultMaxLine = 1 << 20
	// MaxStringBytes bounds every string in a tool's arguments, keys
	// included. The longest honest strings are an api body passed as a
	// JSON string or a metadata value, which Clerk itself caps at a few
	// KiB (8 KiB of metadata per user); 64 KiB leaves room for those
	// while a runaway argument (a whole file pasted as a query) fails at
	// once instead of costing memory and time in a tool.
	MaxStringBytes = 64 << 10
	// DefaultDrain is how long shutdown waits for the calls in flight.
	DefaultDrain = 10 * time.Second
	// outQueue is how many answers may wait for stdout. When it is full
	// the read loop waits, so a client that stops reading stops the
	// server from reading too: the kernel's pipe buffers hold the rest.
	outQueue = 16
	// cancelGrace is how long calls get to return once cancelled after
	// the drain ran out.
	cancelGrace = 2 * time.Second
)

// Stdio serves one MCP client over a pair of byte streams, one JSON-RPC
// message per line, with bounded memory: a cap on calls in flight, on the
// length of a line, and on the answers waiting for the client to read
// them. Zero fields take the defaults.
type Stdio struct {
	MaxCalls int
	MaxLine  int
	Drain    time.Duration
	Logger   *slog.Logger
	// Ready, if set, runs once on Serve's goroutine, after the first
	// answer is written and before the next message is dispatched, or
	// before Serve stops without an answer: start-up work that need not
	// delay the answer a client waits for when it launches the server,
	// such as the first log line (the logger's first use costs a few
	// percent of a cold start). It must return quickly: nothing is read
	// while it runs.
	Ready func()
}

// ServeStdio serves s on in and out with the default bounds until in ends
// or ctx ends; see Stdio.Serve.
func ServeStdio(ctx context.Context, s *mcpserver.MCPServer, in io.Reader, out io.Writer, logger *slog.Logger) error {
	return (&Stdio{Logger: logger}).Serve(ctx, s, in, out)
}

// Serve serves s on in and out until in ends (EOF) or ctx ends (a
// signal). Either way it stops reading, lets the calls in flight finish
// and writes their answers, for up to Drain, then cancels what is left
// and returns. Calls run under a context of their own, not under ctx, so
// that a shutdown finishes them instead of cutting them off. out carries
// JSON-RPC only.
func (st *Stdio) Serve(ctx context.Context, s *mcpserver.MCPServer, in io.Reader, out io.Writer) error {
	maxCalls, maxLine, drain := st.MaxCalls, st.MaxLine, st.Drain
	if maxCalls <= 0 {
		maxCalls = DefaultMaxCalls
	}
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	if drain <= 0 {
		drain = DefaultDrain
	}
	logger := st.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}

	sess := &stdioSession{notifications: make(chan mcp.JSONRPCNotification, outQueue)}
	callCtx, cancelCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	if err := s.RegisterSession(callCtx, sess); err != nil {
		return fmt.Errorf("register the stdio session: %w", err)
	}
	defer s.UnregisterSession(callCtx, sess.SessionID())
	callCtx = s.WithContext(callCtx, sess)

	w := newLineWriter(out, logger)
	ready := func() {}
	firstAnswer := w.firstWrite
	if st.Ready != nil {
		var once sync.Once
		ready = func() { once.Do(st.Ready) }
	}
	go w.run()
	sess.requests.start(w.sendContext)
	go func() {
		for {
			select {
			case n := <-sess.notifications:
				if b, err := json.Marshal(n); err == nil {
					w.send(b)
				}
			case <-w.done:
				return
			}
		}
	}()

	lines := make(chan inLine)
	stopReading := make(chan struct{})
	var readErr error
	go func() {
		readErr = readLines(in, maxLine, lines, stopReading)
		close(lines)
	}()

	l := &loop{srv: s, sess: sess, ctx: callCtx, w: w, log: logger, maxLine: maxLine,
		slots: make(chan struct{}, maxCalls), abandon: make(chan struct{})}
	defer close(l.abandon)
	why, inEnded := "stdin closed", false
read:
	for {
		select {
		case <-ctx.Done():
			why = fmt.Sprint(context.Cause(ctx))
			break read
		case <-w.failed:
			why = "stdout failed"
			break read
		case <-firstAnswer:
			ready()
			firstAnswer = nil
		case line, ok := <-lines:
			if !ok {
				// readErr is set before lines is closed.
				inEnded = true
				break read
			}
			// A client that does not wait for the initialize answer
			// still gets the start-up line before what follows it.
			select {
			case <-firstAnswer:
				ready()
				firstAnswer = nil
			default:
			}
			l.dispatch(ctx.Done(), line)
		}
	}
	ready()
	close(stopReading)
	// No answer to a request of ours can arrive any more.
	sess.requests.stop()
	logger.Info("stdio: stopping", "why", why, "calls_in_flight", len(l.slots))

	calls := make(chan struct{})
	go func() {
		l.calls.Wait()
		close(calls)
	}()
	deadline := time.NewTimer(drain)
	defer deadline.Stop()
	select {
	case <-calls:
	case <-deadline.C:
		logger.Warn("stdio: calls still running after the drain; cancelling them", "drain", drain, "calls_in_flight", len(l.slots))
		cancelCalls()
		select {
		case <-calls:
		case <-time.After(cancelGrace):
			logger.Error("stdio: calls ignored their cancellation; exiting without their answers", "calls_in_flight", len(l.slots))
		}
	}
	// Write what is queued, unless the client stopped reading: then
	// nothing will take it, and the wait is bounded by the drain.
	w.close()
	select {
	case <-w.done:
	case <-deadline.C:
		logger.Warn("stdio: the client is not reading; answers dropped")
	}
	if inEnded && readErr != nil {
		return fmt.Errorf("read stdin: %w", readErr)
	}
	return nil
}

// loop dispatches messages read from stdin.
type loop struct {
	srv     *mcpserver.MCPServer
	sess    *stdioSession
	ctx     context.Context // calls' context
	w       *lineWriter
	log     *slog.Logger
	maxLine int
	slots   chan struct{} // one per tools/call in flight
	calls   sync.WaitGroup
	abandon chan struct{} // closed when Serve returns
}

// header is what dispatch reads of a message before handing it over.
type header struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
}

// dispatch handles one line. Requests other than tools/call are answered
// here, on the read loop: every one this server offers answers from
// memory. tools/call runs on a goroutine of its own, up to the cap.
// Answers sent from here give up when stop is closed (a shutdown while
// the client is not reading).
func (l *loop) dispatch(stop <-chan struct{}, line inLine) {
	if line.tooLong {
		l.tooLong(stop, line)
		return
	}
	var h header
	if json.Unmarshal(line.data, &h) != nil {
		// Not an object: mcp-go answers with the error it chooses.
		h = header{}
	}
	if h.Method == "" && hasID(h.ID) && l.sess.requests.deliver(h.ID, line.data) {
		// The client's answer to a request of ours (an elicitation).
		return
	}
	if h.Method == string(mcp.MethodToolsCall) && hasID(h.ID) {
		select {
		case l.slots <- struct{}{}:
		default:
			l.send(stop, toolError(h.ID, &envelope.Error{Reason: envelope.ReasonBusy, Retryable: true,
				Message: fmt.Sprintf("clerk-mcp is already running %d calls.", cap(l.slots)),
				Remedy:  "Retry in a few seconds, or wait for the other calls to finish."}))
			return
		}
		l.calls.Add(1)
		go func() {
			defer l.calls.Done()
			defer func() { <-l.slots }()
			if resp := l.srv.HandleMessage(l.ctx, line.data); resp != nil {
				// Not stop: a call that ends during the drain is answered.
				l.sendMessage(l.abandon, resp)
			}
		}()
		return
	}
	if resp := l.srv.HandleMessage(l.ctx, line.data); resp != nil {
		l.sendMessage(stop, resp)
	}
}

// tooLong answers a line longer than the cap from its id and method
// alone: a tools/call gets invalid_input, as its arguments would from the
// string cap; any other request, a JSON-RPC error.
func (l *loop) tooLong(stop <-chan struct{}, line inLine) {
	var method string
	json.Unmarshal(line.method, &method)
	l.log.Warn("stdio: message over the size limit discarded", "bytes", line.size, "method", method)
	if !hasID(line.id) {
		return
	}
	if method == string(mcp.MethodToolsCall) {
		l.send(stop, toolError(line.id, &envelope.Error{Reason: envelope.ReasonInvalidInput,
			Message: fmt.Sprintf("The call is %d bytes long; clerk-mcp accepts messages up to %d bytes and string arguments up to %d bytes.",
				line.size, l.maxLine, MaxStringBytes),
			Remedy: "Send shorter arguments: a search query of a few words, a request body of what the endpoint needs."}))
		return
	}
	b, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{JSONRPC: mcp.JSONRPC_VERSION, ID: line.id, Error: struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{mcp.INVALID_REQUEST, fmt.Sprintf("message of %d bytes is over the limit", line.size)}})
	l.send(stop, b)
}

func (l *loop) sendMessage(stop <-chan struct{}, msg mcp.JSONRPCMessage) {
	b, err := json.Marshal(msg)
	if err != nil {
		l.log.Error("stdio: encode an answer", "error", err)
		return
	}
	l.send(stop, b)
}

// send queues b for stdout. It waits while the queue is full, which is
// what stops the read loop when the client stops reading, until stop is
// closed or the writer is gone; then b is dropped.
func (l *loop) send(stop <-chan struct{}, b []byte) {
	select {
	case l.w.queue <- b:
	case <-l.w.done:
	case <-stop:
	}
}

// hasID reports whether a raw id makes the message a request (JSON-RPC:
// present and not null).
func hasID(id json.RawMessage) bool {
	return len(id) > 0 && string(id) != "null"
}

// toolError is a tools/call answer carrying err's envelope as an isError
// result.
func toolError(id json.RawMessage, err error) []byte {
	b, _ := json.Marshal(struct {
		JSONRPC string              `json:"jsonrpc"`
		ID      json.RawMessage     `json:"id"`
		Result  *mcp.CallToolResult `json:"result"`
	}{mcp.JSONRPC_VERSION, id, errorResult(err)})
	return b
}

// lineWriter writes queued lines to stdout on one goroutine, so that a
// slow reader costs at most outQueue answers of memory.
type lineWriter struct {
	out        io.Writer
	log        *slog.Logger
	queue      chan []byte
	quit       chan struct{} // closed by close: write what is queued, then stop
	done       chan struct{} // closed when run returns
	failed     chan struct{} // closed on the first write error
	firstWrite chan struct{} // closed after the first line is written
	once       sync.Once
}

func newLineWriter(out io.Writer, log *slog.Logger) *lineWriter {
	return &lineWriter{out: out, log: log, queue: make(chan []byte, outQueue),
		quit: make(chan struct{}), done: make(chan struct{}), failed: make(chan struct{}), firstWrite: make(chan struct{})}
}

func (w *lineWriter) send(b []byte) {
	select {
	case w.queue <- b:
	case <-w.done:
	}
}

func (w *lineWriter) close() { w.once.Do(func() { close(w.quit) }) }

func (w *lineWriter) run() {
	defer close(w.done)
	broken, wrote := false, false
	write := func(b []byte) {
		if broken {
			return
		}
		if _, err := w.out.Write(append(b, '\n')); err != nil {
			// The client is gone; keep taking answers so that no call
			// waits on a queue nobody empties.
			w.log.Warn("stdio: cannot write to stdout; dropping answers", "error", err)
			broken = true
			close(w.failed)
			return
		}
		if !wrote {
			wrote = true
			close(w.firstWrite)
		}
	}
	for {
		select {
		case b := <-w.queue:
			write(b)
		case <-w.quit:
			for {
				select {
				case b := <-w.queue:
					write(b)
				default:
					return
				}
			}
		}
	}
}

// inLine is one message read from stdin. A line over the cap is not kept:
// data is empty and id and method are what scanning it found.
type inLine struct {
	data       []byte
	tooLong    bool
	size       int
	id, method json.RawMessage
}

var errStopped = errors.New("stopped")

// readLines reads newline-delimited messages from in and sends them on
// lines until in ends or stop is closed. A final line without a newline
// counts. It holds at most max bytes of one line.
func readLines(in io.Reader, max int, lines chan<- inLine, stop <-chan struct{}) error {
	br := bufio.NewReaderSize(in, 64<<10)
	for {
		var line inLine
		var scan *headScanner
		for {
			frag, err := br.ReadSlice('\n')
			line.size += len(frag)
			switch {
			case scan != nil:
				scan.feed(frag)
			case line.size > max:
				scan = &headScanner{}
				scan.feed(line.data)
				scan.feed(frag)
				line.data = nil
			default:
				line.data = append(line.data, frag...)
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil && err != io.EOF {
				return err
			}
			if scan != nil {
				line.tooLong = true
				line.id, line.method = scan.result()
			}
			if len(bytesTrimSpace(line.data)) > 0 || line.tooLong {
				select {
				case lines <- line:
				case <-stop:
					return errStopped
				}
			}
			if err == io.EOF {
				return nil
			}
			break
		}
	}
}

func bytesTrimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

// headScanner finds the top-level "id" and "method" of a JSON object fed
// to it in pieces, holding a few hundred bytes whatever the length of the
// message. Clients put id before or after params (the TypeScript SDK puts
// it last), so a prefix is not enough.
type headScanner struct {
	depth     int
	inString  bool
	escaped   bool
	expectKey bool   // at depth 1: the next string is a key
	key       []byte // the key being read, or the last one read
	keyLong   bool
	capture   *[]byte // where the current value of interest goes
	id        json.RawMessage
	method    json.RawMessage
}

// maxHead bounds a captured key or value: ids and method names are short.
const maxHead = 256

func (h *headScanner) feed(p []byte) {
	for _, c := range p {
		h.byte(c)
	}
}

func (h *headScanner) byte(c byte) {
	if h.capture != nil && h.depth >= 1 {
		if len(*h.capture) < maxHead {
			*h.capture = append(*h.capture, c)
		}
	}
	if h.inString {
		switch {
		case h.escaped:
			h.escaped = false
		case c == '\\':
			h.escaped = true
		case c == '"':
			h.inString = false
		default:
			if h.depth == 1 && h.expectKey {
				if len(h.key) < 16 {
					h.key = append(h.key, c)
				} else {
					h.keyLong = true
				}
			}
		}
		return
	}
	switch c {
	case '"':
		h.inString = true
		if h.depth == 1 && h.expectKey {
			h.key, h.keyLong = h.key[:0], false
		}
	case '{', '[':
		h.depth++
		if h.depth == 1 {
			h.expectKey = c == '{'
		}
	case '}', ']':
		if h.depth == 1 {
			h.endValue()
		}
		h.depth--
	case ':':
		if h.depth == 1 && h.expectKey {
			h.expectKey = false
			if !h.keyLong {
				switch string(h.key) {
				case "id":
					h.id = json.RawMessage{}
					h.capture = (*[]byte)(&h.id)
				case "method":
					h.method = json.RawMessage{}
					h.capture = (*[]byte)(&h.method)
				}
			}
		}
	case ',':
		if h.depth == 1 {
			h.endValue()
			h.expectKey = true
		}
	}
}

// result returns the id and method found, nil for either that was
// missing, not valid JSON, or not finished when the message ended.
func (h *headScanner) result() (id, method json.RawMessage) {
	if h.capture != nil {
		*h.capture = nil
		h.capture = nil
	}
	return h.id, h.method
}

// endValue ends the capture of a top-level value at the ',' or '}' that
// follows it, which the capture took in too.
func (h *headScanner) endValue() {
	if h.capture == nil {
		return
	}
	v := *h.capture
	if n := len(v); n > 0 && (v[n-1] == ',' || v[n-1] == '}') {
		v = v[:n-1]
	}
	v = bytesTrimSpace(v)
	if !json.Valid(v) || len(v) >= maxHead {
		v = nil
	}
	*h.capture = v
	h.capture = nil
}

// stdioSession is the one client session of a stdio server.
type stdioSession struct {
	notifications chan mcp.JSONRPCNotification
	requests      clientRequests // ours to the client (stdio_requests.go)
	initialized   atomic.Bool
	logLevel      atomic.Value // mcp.LoggingLevel
	clientInfo    atomic.Value // mcp.Implementation
	capabilities  atomic.Value // mcp.ClientCapabilities
	protocol      atomic.Value // string
}

var (
	_ mcpserver.SessionWithLogging         = (*stdioSession)(nil)
	_ mcpserver.SessionWithClientInfo      = (*stdioSession)(nil)
	_ mcpserver.SessionWithProtocolVersion = (*stdioSession)(nil)
)

func (s *stdioSession) SessionID() string { return "stdio" }
func (s *stdioSession) NotificationChannel() chan<- mcp.JSONRPCNotification {
	return s.notifications
}
func (s *stdioSession) Initialize()       { s.initialized.Store(true) }
func (s *stdioSession) Initialized() bool { return s.initialized.Load() }

func (s *stdioSession) SetLogLevel(level mcp.LoggingLevel) { s.logLevel.Store(level) }
func (s *stdioSession) GetLogLevel() mcp.LoggingLevel {
	if v, ok := s.logLevel.Load().(mcp.LoggingLevel); ok {
		return v
	}
	return mcp.LoggingLevelError
}

func (s *stdioSession) GetClientInfo() mcp.Implementation {
	v, _ := s.clientInfo.Load().(mcp.Implementation)
	return v
}
func (s *stdioSession) SetClientInfo(info mcp.Implementation) { s.clientInfo.Store(info) }
func (s *stdioSession) GetClientCapabilities() mcp.ClientCapabilities {
	v, _ := s.capabilities.Load().(mcp.ClientCapabilities)
	return v
}
func (s *stdioSession) SetClientCapabilities(c mcp.ClientCapabilities) { s.capabilities.Store(c) }

// ProtocolVersion and SetProtocolVersion keep the version negotiated in
// initialize, which mcp-go reads to tell protocol eras apart.
func (s *stdioSession) ProtocolVersion() string {
	v, _ := s.protocol.Load().(string)
	return v
}
func (s *stdioSession) SetProtocolVersion(v string) { s.protocol.Store(v) }
