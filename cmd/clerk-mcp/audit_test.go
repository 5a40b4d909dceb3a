package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// An editor that cannot ask the user (the official Go SDK client without
// an elicitation handler) gets confirmation_required for a production
// delete, with nothing sent; the same call with confirm: TOKEN is sent.
// `clerk-mcp audit --json` then shows both, with the client's name.
func TestConfirmationTokenEndToEnd(t *testing.T) {
	w := newWorld(t)
	w.login(t, time.Now().Add(time.Hour))
	live := w.fake.SecretKey("production")
	w.env = append(w.env, "CLERK_SECRET_KEY="+live)
	cs := w.connect(t)
	args := map[string]any{"target": "backend", "method": "DELETE", "path": "/users/" + fakeclerk.DefaultUser.ID}
	res := callTool(t, cs, "api", args)
	if r := reasonOf(t, res); r != "confirmation_required" {
		t.Fatalf("production delete: reason %q", r)
	}
	var env struct {
		Error struct {
			Confirmation struct{ Summary, Token string } `json:"confirmation"`
		} `json:"error"`
	}
	text := res.Content[0].(*mcp.TextContent).Text
	if err := json.Unmarshal([]byte(text), &env); err != nil || env.Error.Confirmation.Token == "" {
		t.Fatalf("no confirmation token: %s", text)
	}
	if strings.Contains(text, live) {
		t.Fatal("the envelope shows the secret key")
	}
	if n := w.fake.Counts().DeletedUsers; n != 0 {
		t.Fatalf("confirmation_required deleted %d users", n)
	}
	args["confirm"] = env.Error.Confirmation.Token
	if res := callTool(t, cs, "api", args); res.IsError {
		t.Fatalf("with the token: %s", res.Content[0].(*mcp.TextContent).Text)
	}
	if n := w.fake.Counts().DeletedUsers; n != 1 {
		t.Fatalf("deleted %d users, want 1", n)
	}
	if res := callTool(t, cs, "api", args); reasonOf(t, res) != "confirmation_required" {
		t.Fatal("a spent token was accepted again")
	}

	stdout, stderr, code := w.run(t, nil, "audit", "--json")
	if code != 0 {
		t.Fatalf("audit --json: exit %d: %s", code, stderr)
	}
	var entries []audit.Entry
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil || len(entries) != 3 {
		t.Fatalf("audit --json: %v: %s", err, stdout)
	}
	want := []struct{ allowed, refused string }{
		{refused: audit.RefusedConfirmationRequired}, {allowed: audit.AllowedToken}, {refused: audit.RefusedConfirmationRequired}}
	for i, e := range entries {
		if e.Allowed != want[i].allowed || e.Refused != want[i].refused || e.Client != "interop" ||
			e.Method != "DELETE" || e.Path != "/v1/users/"+fakeclerk.DefaultUser.ID {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
	if entries[1].Status != 200 {
		t.Errorf("the sent delete's status: %d", entries[1].Status)
	}
	if strings.Contains(stdout, live) || strings.Contains(stdout, env.Error.Confirmation.Token) {
		t.Fatal("the audit log holds a credential or a token")
	}
	stdout, _, code = w.run(t, nil, "audit", "--limit", "1")
	if code != 0 || !strings.Contains(stdout, "refused: confirmation_required") || strings.Count(stdout, "\n") != 2 {
		t.Fatalf("audit --limit 1: exit %d:\n%s", code, stdout)
	}
}

// serve refuses an unknown --confirm policy as a usage error, before it
// serves anything.
func TestServeRejectsUnknownConfirmPolicy(t *testing.T) {
	w := newWorld(t)
	_, stderr, code := w.run(t, nil, "serve", "--confirm", "sometimes")
	if code != exitUsage || !strings.Contains(stderr, "production, writes or never") {
		t.Fatalf("serve --confirm sometimes: exit %d: %s", code, stderr)
	}
}
