package tools

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/syncbuf"
)

// Every write that is sent, declined or refused leaves one line naming
// the client, the request and how it was allowed or why it was refused;
// reads and dry runs leave none. No line holds a body value, a query
// value or a credential.
func TestAuditRecordsWrites(t *testing.T) {
	dir := t.TempDir()
	log := audit.New(dir)
	e := liveKeyEnv(t, func(d *Deps) { d.Audit = log })
	live := e.fake.SecretKey("production")
	ctx := WithClientInfo(context.Background(), ClientInfo{Name: "claude-code", Version: "2.1.0"})
	call := func(ask Asker, args APIArgs) error {
		_, err := e.api.Call(WithAsker(ctx, ask), args)
		return err
	}
	secretBody := `{"first_name":"Zebedee","password":"hunter2-correct-horse","email_address":["zeb@example.com"]}`
	create := APIArgs{Target: TargetBackend, Method: http.MethodPost, Path: "/users", Body: json.RawMessage(secretBody)}

	call(&fakeAsker{answer: AnswerAccept}, deleteUser(fakeclerk.DefaultUser.ID))      // sent, elicited
	call(&fakeAsker{answer: AnswerDecline}, create)                                   // declined
	err := call(&fakeAsker{answer: AnswerUnsupported}, create)                        // confirmation_required
	create.Confirm = confirmationOf(t, err).Token                                     //
	call(&fakeAsker{answer: AnswerUnsupported}, create)                               // sent, token
	call(&fakeAsker{answer: AnswerAccept}, deleteUser("user_nobody"))                 // sent, 404
	call(nil, APIArgs{Target: TargetBackend, Method: http.MethodPost, Path: "/users", // invalid_input (spec)
		Body: json.RawMessage(`{"email_address":"not-a-list"}`), Query: map[string]any{"q": "query-value-1"}})
	call(nil, APIArgs{Target: TargetBackend, Path: "/users", Query: map[string]any{"query": "query-value-2"}}) // a read: no line
	e.api.DryRun(ctx, APIArgs{Target: TargetBackend, Method: http.MethodDelete, Path: "/users/u", DryRun: true})

	ro := liveKeyEnv(t, func(d *Deps) { d.Audit = log; d.ReadOnly = true })
	ro.api.Call(ctx, deleteUser("user_ro")) // read_only

	entries, err := log.Recent(0)
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct{ allowed, refused string }
	want := []struct {
		path   string
		status int
		outcome
	}{
		{"/v1/users/" + fakeclerk.DefaultUser.ID, 200, outcome{allowed: audit.AllowedElicited}},
		{"/v1/users", 0, outcome{refused: audit.RefusedDeclined}},
		{"/v1/users", 0, outcome{refused: audit.RefusedConfirmationRequired}},
		{"/v1/users", 200, outcome{allowed: audit.AllowedToken}},
		{"/v1/users/user_nobody", 404, outcome{allowed: audit.AllowedElicited}},
		{"/v1/users", 0, outcome{refused: audit.RefusedInvalidInput}},
		{"/v1/users/user_ro", 0, outcome{refused: audit.RefusedReadOnly}},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(entries), len(want), entries)
	}
	for i, w := range want {
		got := entries[i]
		if got.Path != w.path || got.Status != w.status || got.Allowed != w.allowed || got.Refused != w.refused {
			t.Errorf("entry %d = %+v, want %+v", i, got, w)
		}
		if got.Client != "claude-code" || got.ClientVersion != "2.1.0" || got.Profile != "default" || got.Target != "backend" || got.Time.IsZero() {
			t.Errorf("entry %d: %+v", i, got)
		}
	}
	if entries[4].TraceID == "" || entries[4].Error != "api_error" {
		t.Errorf("the 404 entry has no trace id or error: %+v", entries[4])
	}
	raw, err := os.ReadFile(filepath.Join(dir, audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	at, rt := e.src.Credentials()
	for _, secret := range []string{live, at, rt, "Zebedee", "hunter2-correct-horse", "zeb@example.com", "not-a-list", "query-value-1", "query-value-2", create.Confirm} {
		if secret != "" && strings.Contains(string(raw), secret) {
			t.Errorf("the audit log holds %q:\n%s", secret, raw)
		}
	}
}

// A question answered in a later round trip (protocol 2026-07-28) leaves
// one line, the retried call's, not one per round.
func TestAuditInputRequiredRoundTripIsOneLine(t *testing.T) {
	log := audit.New(t.TempDir())
	e := liveKeyEnv(t, func(d *Deps) { d.Audit = log })
	ask := &fakeAsker{err: errInputRequired}
	args := deleteUser(fakeclerk.DefaultUser.ID)
	e.callWith(ask, args)
	ask.err, ask.answer = nil, AnswerAccept
	if _, err := e.callWith(ask, args); err != nil {
		t.Fatal(err)
	}
	entries, _ := log.Recent(0)
	if len(entries) != 1 || entries[0].Allowed != audit.AllowedElicited || entries[0].Status != http.StatusOK {
		t.Fatalf("entries: %+v", entries)
	}
}

// A log that cannot be written (a symlink planted at audit.jsonl) does
// not undo or fail a call Clerk already carried out: the call succeeds,
// the target of the link is untouched, and the server log says the call
// is not recorded.
func TestAuditFailureIsLoggedNotFatal(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	if err := os.Symlink(victim, filepath.Join(dir, audit.FileName)); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	var logs syncbuf.Buffer
	log := audit.New(dir)
	log.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	e := newAPIEnv(t, func(d *Deps) { d.Audit = log; d.Confirm = ConfirmNever })
	e.api.d.Config.SecretKey = e.fake.SecretKey("development")
	if _, err := e.call(t, deleteUser(fakeclerk.DefaultUser.ID)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious\n" {
		t.Fatalf("the audit line went through the symlink: %q", data)
	}
	if !strings.Contains(logs.String(), "could not write the audit log") || !strings.Contains(logs.String(), "symbolic link") {
		t.Fatalf("server log: %s", logs.String())
	}
}
