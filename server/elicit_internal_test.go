package server

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
)

// modern is the context of a 2026-07-28 request whose client declared
// elicit (nil: none).
func modern(elicit *mcp.ElicitationCapability) context.Context {
	return mcpserver.WithRequestProtocolInfo(context.Background(), &mcpserver.RequestProtocolInfo{
		Modern: true, ProtocolVersion: "2026-07-28",
		ClientCapabilities: &mcp.ClientCapabilities{Elicitation: elicit}})
}

// call is a retried tools/call carrying answer for id, with state.
func call(id, state string, action mcp.ElicitationResponseAction, content any) mcp.CallToolRequest {
	var req mcp.CallToolRequest
	req.Params.RequestState = state
	if id != "" {
		req.Params.InputResponses = mcp.InputResponses{id: mcp.NewElicitationInputResponse(
			mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: action, Content: content}})}
	}
	return req
}

func newAsker(q *questions, req mcp.CallToolRequest) *asker {
	return &asker{q: q, req: req, wait: DefaultAskWait, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// On 2026-07-28 an answer counts only for a question the server asked,
// with the state it issued, about the same thing, once.
func TestAskerModernTakesOnlyAskedQuestions(t *testing.T) {
	ctx := modern(&mcp.ElicitationCapability{Form: &struct{}{}})
	var q questions
	yes := map[string]any{confirmField: true}

	// A first call that already carries "accept" is asked anyway.
	_, err := newAsker(&q, call("q1", "", mcp.ElicitationResponseActionAccept, yes)).Confirm(ctx, "q1", "Delete app_1?")
	ir, ok := isInputRequired(err)
	if !ok || ir.id != "q1" || ir.state == "" || ir.params.Mode != mcp.ElicitationModeForm {
		t.Fatalf("first call: err = %v, want input required for q1", err)
	}
	res := ir.result()
	if res.ResultType != mcp.ResultTypeInputRequired || res.RequestState != ir.state || res.InputRequests["q1"].Elicitation == nil {
		t.Fatalf("input-required result = %+v", res)
	}

	for name, req := range map[string]mcp.CallToolRequest{
		"wrong state": call("q1", "forged", mcp.ElicitationResponseActionAccept, yes),
		"other id":    call("q2", ir.state, mcp.ElicitationResponseActionAccept, yes),
	} {
		if _, err := newAsker(&q, req).Confirm(ctx, "q1", "Delete app_1?"); err == nil {
			t.Fatalf("%s: answer taken", name)
		} else if next, _ := isInputRequired(err); next != nil {
			ir = next // asking again issues a new state
		}
	}
	// Another question under the same id does not take the answer.
	if _, err := newAsker(&q, call("q1", ir.state, mcp.ElicitationResponseActionAccept, yes)).Confirm(ctx, "q1", "Delete app_2?"); err == nil {
		t.Fatal("an answer to another question was taken")
	}
	_, err = newAsker(&q, call("", "", "", nil)).Confirm(ctx, "q1", "Delete app_1?")
	ir, _ = isInputRequired(err)
	answer, err := newAsker(&q, call("q1", ir.state, mcp.ElicitationResponseActionAccept, yes)).Confirm(ctx, "q1", "Delete app_1?")
	if err != nil || answer != tools.AnswerAccept {
		t.Fatalf("retry with the issued state: %v, %v; want accept", answer, err)
	}
	// Single use: the same answer replayed is asked again.
	if _, err := newAsker(&q, call("q1", ir.state, mcp.ElicitationResponseActionAccept, yes)).Confirm(ctx, "q1", "Delete app_1?"); err == nil {
		t.Fatal("a replayed answer was taken twice")
	}
}

func TestAskerAnswers(t *testing.T) {
	ctx := modern(&mcp.ElicitationCapability{Form: &struct{}{}, URL: &struct{}{}})
	for _, tc := range []struct {
		action  mcp.ElicitationResponseAction
		content any
		url     bool
		want    tools.Answer
	}{
		{mcp.ElicitationResponseActionAccept, map[string]any{confirmField: true}, false, tools.AnswerAccept},
		{mcp.ElicitationResponseActionAccept, map[string]any{confirmField: false}, false, tools.AnswerDecline},
		{mcp.ElicitationResponseActionAccept, nil, false, tools.AnswerDecline},
		{mcp.ElicitationResponseActionDecline, nil, false, tools.AnswerDecline},
		{mcp.ElicitationResponseActionCancel, nil, false, tools.AnswerCancel},
		{mcp.ElicitationResponseActionAccept, nil, true, tools.AnswerAccept},
		{mcp.ElicitationResponseActionDecline, nil, true, tools.AnswerDecline},
	} {
		var q questions
		ask := func(a *asker) (tools.Answer, error) {
			if tc.url {
				return a.OpenURL(ctx, "login-1", "Log in", "https://clerk.example/oauth/authorize")
			}
			return a.Confirm(ctx, "c-1", "Go?")
		}
		_, err := ask(newAsker(&q, call("", "", "", nil)))
		ir, ok := isInputRequired(err)
		if !ok {
			t.Fatalf("%+v: %v, want input required", tc, err)
		}
		if tc.url && (ir.params.ElicitationID != "login-1" || ir.params.URL == "" || ir.params.Validate() != nil) {
			t.Fatalf("URL-mode params = %+v", ir.params)
		}
		got, err := ask(newAsker(&q, call(ir.id, ir.state, tc.action, tc.content)))
		if err != nil || got != tc.want {
			t.Fatalf("%+v: %v, %v", tc, got, err)
		}
	}
}

// What the client declared decides what is asked: `elicitation: {}` is
// form only; URL mode needs `url`; no elicitation, nothing.
func TestAskerCapabilities(t *testing.T) {
	for _, tc := range []struct {
		name      string
		elicit    *mcp.ElicitationCapability
		form, url bool
	}{
		{"none", nil, false, false},
		{"empty", &mcp.ElicitationCapability{}, true, false},
		{"form", &mcp.ElicitationCapability{Form: &struct{}{}}, true, false},
		{"url", &mcp.ElicitationCapability{URL: &struct{}{}}, false, true},
		{"both", &mcp.ElicitationCapability{Form: &struct{}{}, URL: &struct{}{}}, true, true},
	} {
		ctx := modern(tc.elicit)
		if got := clientCanElicit(ctx, mcp.ElicitationModeForm); got != tc.form {
			t.Errorf("%s: form = %v", tc.name, got)
		}
		if got := clientCanElicit(ctx, mcp.ElicitationModeURL); got != tc.url {
			t.Errorf("%s: url = %v", tc.name, got)
		}
		a := newAsker(&questions{}, call("", "", "", nil))
		if ans, err := a.OpenURL(ctx, "x", "m", "https://u"); !tc.url && (ans != tools.AnswerUnsupported || err != nil) {
			t.Errorf("%s: OpenURL = %v, %v; want unsupported", tc.name, ans, err)
		}
	}
	// A request without per-request info and without a session: nothing.
	if clientCanElicit(context.Background(), mcp.ElicitationModeForm) {
		t.Error("no session: form elicitation assumed")
	}
}

// A client that never retries cannot grow the record of questions past
// its bound.
func TestQuestionsBounded(t *testing.T) {
	var q questions
	for i := range maxQuestions {
		if _, ok := q.ask(string(rune('a'+i%26))+string(rune(i)), "x"); !ok {
			t.Fatalf("question %d refused", i)
		}
	}
	if _, ok := q.ask("one-more", "x"); ok {
		t.Fatal("the record grew past its bound")
	}
}

// A confirmation the client declared it could ask but did not get
// answered is a cancel, never a fall back to a token the agent could
// redeem by itself; a login link falls back to the envelope.
func TestUnansweredConfirmationIsCancel(t *testing.T) {
	q := &questions{}
	for i := range maxQuestions {
		if _, ok := q.ask("q"+string(rune('a'+i%26))+string(rune(i)), "x"); !ok {
			t.Fatalf("question %d refused", i)
		}
	}
	a := newAsker(q, call("", "", "", nil))
	both := modern(&mcp.ElicitationCapability{Form: &struct{}{}, URL: &struct{}{}})
	if ans, err := a.Confirm(both, "new", "Send?"); ans != tools.AnswerCancel || err != nil {
		t.Fatalf("unanswered Confirm = %v, %v; want cancel", ans, err)
	}
	if ans, err := a.OpenURL(both, "new-url", "Log in", "https://u"); ans != tools.AnswerUnsupported || err != nil {
		t.Fatalf("unanswered OpenURL = %v, %v; want unsupported (the link goes in the envelope)", ans, err)
	}
}
