package tools

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
)

// dryRun runs the api tool's handler, as the server does, with
// dry_run: true.
func (e *apiEnv) dryRun(t *testing.T, args string) (*DryRunResult, string) {
	t.Helper()
	out, err := e.api.tool().Handler(context.Background(), json.RawMessage(args))
	if err != nil {
		t.Fatalf("dry run %s: %v", args, err)
	}
	res, ok := out.(*DryRunResult)
	if !ok {
		t.Fatalf("dry run %s answered %T", args, out)
	}
	text, _ := json.Marshal(res)
	return res, string(text)
}

// A dry run of a production delete through application_id shows the
// request with the credential named, not shown, says it would need
// confirmation, and makes no network call at all: not even the Platform
// API call that resolves the secret key.
func TestDryRunSendsNothing(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	app := e.fake.ApplicationID()
	res, text := e.dryRun(t, `{"target":"backend","method":"DELETE","path":"/users/`+fakeclerk.DefaultUser.ID+
		`","application_id":"`+app+`","instance":"production","dry_run":true}`)
	if c := e.fake.Counts(); c.Platform != 0 || c.Backend != 0 {
		t.Fatalf("a dry run reached Clerk: %+v", c)
	}
	if !res.DryRun || res.Request.Method != http.MethodDelete || res.Request.URL != e.fake.URL+"/v1/users/"+fakeclerk.DefaultUser.ID {
		t.Fatalf("request: %+v", res.Request)
	}
	if auth := res.Request.Headers["Authorization"]; !strings.Contains(auth, "redacted") || !strings.Contains(auth, "resolved at send time") {
		t.Errorf("Authorization: %q", auth)
	}
	if !res.NeedsConfirmation || !strings.Contains(res.Confirmation, "production") {
		t.Errorf("confirmation: %v %q", res.NeedsConfirmation, res.Confirmation)
	}
	if !res.Spec.Passed || res.Spec.Operation != "DeleteUser" {
		t.Errorf("spec check: %+v", res.Spec)
	}
	at, rt := e.src.Credentials()
	noLeak(t, "dry run", text, at, rt, e.fake.SecretKey("production"), e.fake.SecretKey("development"))
}

// With CLERK_SECRET_KEY (live), a dry run of a POST names the key, shows
// the body and Content-Type, and a body Clerk's spec refuses is reported
// with the field's JSON pointer. The real call refuses it as
// invalid_input naming the same pointer and sends nothing.
func TestDryRunSpecCheckAndRefusal(t *testing.T) {
	e := liveKeyEnv(t, func(d *Deps) { d.Audit = nil })
	bad := `{"target":"backend","method":"POST","path":"/users","body":{"email_address":"ada@example.com"},"dry_run":true}`
	res, text := e.dryRun(t, bad)
	if res.Request.Headers["Authorization"] != "Bearer [redacted: CLERK_SECRET_KEY]" || res.Request.Headers["Content-Type"] != "application/json" {
		t.Errorf("headers: %v", res.Request.Headers)
	}
	if !strings.Contains(string(res.Request.Body), "ada@example.com") {
		t.Errorf("body: %s", res.Request.Body)
	}
	if res.Spec.Passed || len(res.Spec.Violations) == 0 || res.Spec.Violations[0].Pointer != "/body/email_address" {
		t.Fatalf("spec check of a bad body: %+v", res.Spec)
	}
	noLeak(t, "dry run", text, e.fake.SecretKey("production"))

	_, err := e.call(t, APIArgs{Target: TargetBackend, Method: http.MethodPost, Path: "/users",
		Body: json.RawMessage(`{"email_address":"ada@example.com"}`), Confirm: "cfm_whatever"})
	var te *envelope.Error
	if !errors.As(err, &te) || te.Reason != envelope.ReasonInvalidInput || !strings.Contains(te.Message, "/body/email_address") {
		t.Fatalf("call with a bad body: %v", err)
	}
	if strings.Contains(te.Message, "ada@example.com") {
		t.Errorf("the error quotes the value sent: %s", te.Message)
	}
	// A query parameter of the wrong type, on a GET.
	_, err = e.call(t, APIArgs{Target: TargetBackend, Path: "/users", Query: map[string]any{"limit": "lots"}})
	if !errors.As(err, &te) || te.Reason != envelope.ReasonInvalidInput || !strings.Contains(te.Message, "/query/limit") {
		t.Fatalf("call with a bad query: %v", err)
	}
	if n := e.fake.Counts().Backend; n != 0 {
		t.Fatalf("refused requests reached Clerk: %d", n)
	}
	// An operation the spec does not know is shown as unchecked.
	res, _ = e.dryRun(t, `{"target":"backend","method":"POST","path":"/not_in_the_spec","body":{},"dry_run":true}`)
	if !res.Spec.Passed || res.Spec.Operation != "" || res.Spec.Note == "" {
		t.Errorf("unknown operation: %+v", res.Spec)
	}
}

// A dry run never asks: not even under --confirm writes with a client
// that could, and a production instance given by id (unknown without a
// network call) is reported as needing confirmation, with the reason.
func TestDryRunNeverAsks(t *testing.T) {
	e := newAPIEnv(t, func(d *Deps) { d.Confirm = ConfirmWrites })
	ask := &fakeAsker{answer: AnswerAccept}
	args := APIArgs{Target: TargetBackend, Method: http.MethodPost, Path: "/users", ApplicationID: e.fake.ApplicationID(),
		Instance: "ins_prod1", Body: json.RawMessage(`{"first_name":"Ada"}`), DryRun: true}
	res, err := e.api.DryRun(WithAsker(context.Background(), ask), args)
	if err != nil || !res.NeedsConfirmation {
		t.Fatalf("dry run: %+v, %v", res, err)
	}
	if ask.asked() != 0 {
		t.Fatal("a dry run asked the user")
	}
	e = newAPIEnv(t, nil)
	args.ApplicationID = e.fake.ApplicationID()
	res, err = e.api.DryRun(context.Background(), args)
	if err != nil || !res.NeedsConfirmation || !strings.Contains(res.Confirmation, "resolved at send time") {
		t.Fatalf("instance by id: %+v, %v", res, err)
	}
	if c := e.fake.Counts(); c.Platform != 0 || c.Backend != 0 {
		t.Fatalf("a dry run reached Clerk: %+v", c)
	}
	// Call refuses to take a dry run: only DryRun may.
	if _, err := e.call(t, args); reason(t, err) != envelope.ReasonInvalidInput {
		t.Fatalf("Call with dry_run: %v", err)
	}
}
