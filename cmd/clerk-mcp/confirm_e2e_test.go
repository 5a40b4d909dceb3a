package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Consequential calls confirmed in the client, driven through the real
// binary under `serve --confirm production` (the default): the official Go
// SDK client declares form elicitation, and the user's answer decides
// whether a production delete reaches Clerk. On protocol 2026-07-28 (the
// SDK's default) the question travels as an input-required result and the
// SDK repeats the call with the answer; on 2025-11-25 as an
// elicitation/create request while the call waits.

// formClient is a client that declared form elicitation only; answer
// plays the user.
type formClient struct {
	mu     sync.Mutex
	asked  []*mcp.ElicitParams
	answer *mcp.ElicitResult
}

func (c *formClient) handle(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, req.Params)
	return c.answer, nil
}

func (c *formClient) questions() []*mcp.ElicitParams {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*mcp.ElicitParams(nil), c.asked...)
}

func TestConfirmFormElicitation(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		name := version
		if name == "" {
			name = "latest"
		}
		t.Run(name+"/accept", func(t *testing.T) {
			w, fc, cs := confirmWorld(t, version, &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}})
			res := callTool(t, cs, "api", productionDelete(w))
			if res.IsError {
				t.Fatalf("the accepted delete failed: %s", res.Content[0].(*mcp.TextContent).Text)
			}
			checkConfirmQuestion(t, w, fc.questions())
			if n := w.fake.Counts().DeletedUsers; n != 1 {
				t.Fatalf("Clerk saw %d deletes, want 1", n)
			}
			e := onlyAuditEntry(t, w)
			if e.Allowed != audit.AllowedElicited || e.Refused != "" || e.Status != 200 {
				t.Fatalf("audit entry %+v, want allowed %q with status 200", e, audit.AllowedElicited)
			}
		})
		t.Run(name+"/decline", func(t *testing.T) {
			w, fc, cs := confirmWorld(t, version, &mcp.ElicitResult{Action: "decline"})
			if r := reasonOf(t, callTool(t, cs, "api", productionDelete(w))); r != "declined" {
				t.Fatalf("reason %q, want declined", r)
			}
			checkConfirmQuestion(t, w, fc.questions())
			if n := w.fake.Counts().DeletedUsers; n != 0 {
				t.Fatalf("a declined delete reached Clerk (%d deletes)", n)
			}
			e := onlyAuditEntry(t, w)
			if e.Refused != audit.RefusedDeclined || e.Allowed != "" || e.Status != 0 {
				t.Fatalf("audit entry %+v, want refused %q and nothing sent", e, audit.RefusedDeclined)
			}
		})
	}
}

// confirmWorld is a logged-in world and a form-eliciting client that
// answers every question with answer, connected on protocol version.
func confirmWorld(t *testing.T, version string, answer *mcp.ElicitResult) (*world, *formClient, *mcp.ClientSession) {
	t.Helper()
	w := newWorld(t) // the fake is checked against Clerk's spec (spectest)
	w.login(t, time.Now().Add(time.Hour))
	fc := &formClient{answer: answer}
	cs := w.connectWith(t, &mcp.ClientOptions{
		Capabilities: &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{
			Form: &mcp.FormElicitationCapabilities{}}},
		ElicitationHandler: fc.handle,
	}, version)
	want := version
	if want == "" {
		want = "2026-07-28"
	}
	if got := cs.InitializeResult().ProtocolVersion; got != want {
		t.Fatalf("negotiated protocol %q, want %q", got, want)
	}
	return w, fc, cs
}

// productionDelete is a Backend API delete of the default user on the
// application's production instance: consequential under the default
// policy, whatever key it is sent with.
func productionDelete(w *world) map[string]any {
	return map[string]any{"target": "backend", "method": "DELETE", "path": "/users/" + fakeclerk.DefaultUser.ID,
		"application_id": w.fake.ApplicationID(), "instance": "production"}
}

// checkConfirmQuestion checks that the user was asked exactly once, in a
// form with one boolean field, about exactly this request, and was not
// shown a credential.
func checkConfirmQuestion(t *testing.T, w *world, asked []*mcp.ElicitParams) {
	t.Helper()
	if len(asked) != 1 {
		t.Fatalf("%d elicitations, want 1: %+v", len(asked), asked)
	}
	q := asked[0]
	if q.Mode != "form" {
		t.Fatalf("elicitation mode %q, want form", q.Mode)
	}
	for _, want := range []string{"DELETE /v1/users/" + fakeclerk.DefaultUser.ID, "Backend API",
		"application " + w.fake.ApplicationID(), "instance production"} {
		if !strings.Contains(q.Message, want) {
			t.Errorf("the question lacks %q: %s", want, q.Message)
		}
	}
	if strings.Contains(q.Message, w.fake.SecretKey("production")) {
		t.Fatal("the question shows the secret key")
	}
	schema, _ := json.Marshal(q.RequestedSchema)
	var s struct {
		Properties map[string]struct{ Type string } `json:"properties"`
		Required   []string                         `json:"required"`
	}
	if err := json.Unmarshal(schema, &s); err != nil || len(s.Properties) != 1 || s.Properties["confirm"].Type != "boolean" ||
		len(s.Required) != 1 || s.Required[0] != "confirm" {
		t.Fatalf("requested schema %s, want one required boolean field confirm", schema)
	}
}

// onlyAuditEntry reads the audit log through `clerk-mcp audit --json` and
// returns its one entry: a question answered in a later round trip is
// recorded once, by the call that carried the answer.
func onlyAuditEntry(t *testing.T, w *world) audit.Entry {
	t.Helper()
	stdout, stderr, code := w.run(t, nil, "audit", "--json")
	if code != 0 {
		t.Fatalf("audit --json: exit %d: %s", code, stderr)
	}
	var entries []audit.Entry
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("audit --json: %v, want one entry: %s", err, stdout)
	}
	e := entries[0]
	if e.Client != "eliciting" || e.Target != "backend" || e.Method != "DELETE" ||
		e.Path != "/v1/users/"+fakeclerk.DefaultUser.ID || e.ApplicationID != w.fake.ApplicationID() || e.Instance != "production" {
		t.Fatalf("audit entry %+v does not describe the delete", e)
	}
	return e
}
