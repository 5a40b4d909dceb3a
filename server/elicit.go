package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/clerk-mcp/clerk-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
)

// Elicitation: how the tools' questions (tools.Asker) reach the human
// behind the MCP client, in the form the request's protocol uses.
//
//   - Protocol 2026-07-28 and later: no server-initiated requests. A
//     question ends the call with an input-required result; the client
//     asks the user and repeats the call with the answer, which the same
//     question (same id) then takes at once.
//   - Earlier versions: elicitation/create, sent by this server while the
//     call waits, for a bounded time. Not through mcp-go's own bridge for
//     input-required results, which turns any failure (a timeout, a client
//     that answers with an error) into JSON-RPC -32603: here a failed
//     question is a question the client could not ask, and the tool falls
//     back.
//
// mcp-go does not check that the client declared elicitation; this file
// does, per request on 2026-07-28 (capabilities travel in each request's
// _meta) and from initialize before.

// Bounds of elicitation.
const (
	// DefaultAskWait bounds how long a call waits for the user to answer
	// an elicitation/create. The call holds one of the Stdio.MaxCalls
	// slots meanwhile.
	DefaultAskWait = 5 * time.Minute
	// questionTTL is how long a question asked through an input-required
	// result can be answered by a retried call.
	questionTTL = 10 * time.Minute
	// maxQuestions bounds the questions awaiting an answer: a client that
	// never retries cannot grow the record without bound.
	maxQuestions = 256
)

// errInputRequired is returned by the Asker of a call on protocol
// 2026-07-28 when the client must ask the user first. The tool returns it
// (wrapped or not), and the server answers the call with ir's
// input-required result instead of an error.
type errInputRequired struct {
	id     string
	state  string
	params mcp.ElicitationParams
}

func (e *errInputRequired) Error() string {
	return "the client must ask the user before the call can go on"
}

// result is the input-required answer to the call.
func (e *errInputRequired) result() *mcp.CallToolResult {
	return mcpserver.NewInputRequestBuilder(e.state).Elicit(e.id, e.params).ToolResult()
}

// questions records the questions this server asked through
// input-required results. What a retried call carries (the answers and
// the request state) comes from the client unverified: an answer counts
// only for a question the server asked, with the state it issued, about
// the same thing (the same message and URL), before it expires, once.
type questions struct {
	mu    sync.Mutex
	asked map[string]question // by question id
}

type question struct {
	state   string
	about   string
	expires time.Time
}

// ask records a question and returns the request state to send with it.
// It reports false when too many questions are waiting.
func (q *questions) ask(id, about string) (state string, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	for k, v := range q.asked {
		if now.After(v.expires) {
			delete(q.asked, k)
		}
	}
	if q.asked == nil {
		q.asked = make(map[string]question)
	}
	if _, again := q.asked[id]; !again && len(q.asked) >= maxQuestions {
		return "", false
	}
	state = randomToken()
	q.asked[id] = question{state: state, about: about, expires: now.Add(questionTTL)}
	return state, true
}

// take consumes the question id if the server asked it about about, with
// state, and it has not expired.
func (q *questions) take(id, state, about string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	v, ok := q.asked[id]
	if !ok || v.state != state || v.about != about || time.Now().After(v.expires) {
		return false
	}
	delete(q.asked, id)
	return true
}

// asker is one tool call's tools.Asker.
type asker struct {
	srv  *mcpserver.MCPServer
	q    *questions
	req  mcp.CallToolRequest
	wait time.Duration
	log  *slog.Logger
}

var _ tools.Asker = (*asker)(nil)

// confirmField is the one field of a confirmation form.
const confirmField = "confirm"

// Confirm asks a yes/no question in a form with one boolean field.
func (a *asker) Confirm(ctx context.Context, id, message string) (tools.Answer, error) {
	if !clientCanElicit(ctx, mcp.ElicitationModeForm) {
		return tools.AnswerUnsupported, nil
	}
	params := mcp.ElicitationParams{Mode: mcp.ElicitationModeForm, Message: message,
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{confirmField: map[string]any{
				"type": "boolean", "title": "Go ahead?", "description": "Yes to go ahead; no to stop.",
			}},
			"required": []string{confirmField},
		}}
	return a.ask(ctx, id, params)
}

// OpenURL asks the client to open url for the user (URL mode).
func (a *asker) OpenURL(ctx context.Context, id, message, url string) (tools.Answer, error) {
	if !clientCanElicit(ctx, mcp.ElicitationModeURL) {
		return tools.AnswerUnsupported, nil
	}
	params := mcp.ElicitationParams{Mode: mcp.ElicitationModeURL, Message: message,
		// Elicit does not fill these in for URL mode; the client needs
		// both.
		ElicitationID: id, URL: url}
	return a.ask(ctx, id, params)
}

func (a *asker) ask(ctx context.Context, id string, params mcp.ElicitationParams) (tools.Answer, error) {
	about := params.Mode + "\x00" + params.Message + "\x00" + params.URL
	if mcpserver.IsModernRequest(ctx) {
		if res := mcpserver.ElicitationResponse(a.req.Params.InputResponses, id); res != nil &&
			a.q.take(id, a.req.Params.RequestState, about) {
			return answerOf(params, res), nil
		}
		state, ok := a.q.ask(id, about)
		if !ok {
			a.log.Warn("elicitation: too many questions waiting for an answer; not asking", "id", id)
			return unanswered(params), nil
		}
		return tools.AnswerUnsupported, &errInputRequired{id: id, state: state, params: params}
	}

	wctx, cancel := context.WithTimeout(ctx, a.wait)
	defer cancel()
	var res *mcp.ElicitationResult
	var err error
	if params.Mode == mcp.ElicitationModeURL {
		res, err = a.srv.RequestURLElicitation(wctx, mcpserver.ClientSessionFromContext(ctx), params.ElicitationID, params.URL, params.Message)
	} else {
		res, err = a.srv.RequestElicitation(wctx, mcp.ElicitationRequest{
			Request: mcp.Request{Method: string(mcp.MethodElicitationCreate)}, Params: params})
	}
	if err != nil {
		if ctx.Err() != nil {
			return tools.AnswerUnsupported, ctx.Err()
		}
		// The client could not ask (it answered an error, or the user
		// let the question sit).
		a.log.Info("elicitation: the client did not answer", "id", id, "mode", params.Mode, "error", err)
		return unanswered(params), nil
	}
	return answerOf(params, res), nil
}

// unanswered is the answer to a question the client declared it could ask
// but did not get answered. A login link falls back to the envelope, as
// for a client without elicitation. A confirmation is a cancel: falling
// back would hand the agent a token to approve, by itself, what the human
// was asked and never answered.
func unanswered(params mcp.ElicitationParams) tools.Answer {
	if params.Mode == mcp.ElicitationModeURL {
		return tools.AnswerUnsupported
	}
	return tools.AnswerCancel
}

// answerOf reads the user's answer. A form is a yes only with its field
// set to true.
func answerOf(params mcp.ElicitationParams, res *mcp.ElicitationResult) tools.Answer {
	switch res.Action {
	case mcp.ElicitationResponseActionAccept:
		if params.Mode == mcp.ElicitationModeURL {
			return tools.AnswerAccept
		}
		if m, ok := res.Content.(map[string]any); ok && m[confirmField] == true {
			return tools.AnswerAccept
		}
		return tools.AnswerDecline
	case mcp.ElicitationResponseActionDecline:
		return tools.AnswerDecline
	default:
		return tools.AnswerCancel
	}
}

// clientCanElicit reports whether the client declared elicitation in
// mode: per request on 2026-07-28 (servers must not infer capabilities
// from earlier requests), else in initialize. A bare `elicitation: {}`
// means form only.
func clientCanElicit(ctx context.Context, mode string) bool {
	var caps *mcp.ClientCapabilities
	if info := mcpserver.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		caps = info.ClientCapabilities
	} else if s, ok := mcpserver.ClientSessionFromContext(ctx).(mcpserver.SessionWithClientInfo); ok {
		c := s.GetClientCapabilities()
		caps = &c
	}
	if caps == nil || caps.Elicitation == nil {
		return false
	}
	e := caps.Elicitation
	if mode == mcp.ElicitationModeURL {
		return e.URL != nil
	}
	return e.Form != nil || e.URL == nil
}

// isInputRequired finds an input-required request in err.
func isInputRequired(err error) (*errInputRequired, bool) {
	var ir *errInputRequired
	return ir, errors.As(err, &ir)
}

// randomToken is an unguessable value handed to the client.
func randomToken() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
