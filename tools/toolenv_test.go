package tools

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/spectest"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// toolEnv is every tool as a server gets it from All (budgeted, arguments
// as raw JSON), over a file store and a fake Clerk. Tests call the
// handlers directly, without MCP; sessions are minted at the fake and
// stored with any expiry, so that a call has to refresh.
type toolEnv struct {
	fake   *fakeclerk.Server
	cfg    auth.Config
	deps   Deps
	store  *store.Store
	source *auth.Source
	tools  map[string]Tool
}

func newToolEnv(t *testing.T, configure func(*Deps)) *toolEnv {
	t.Helper()
	fake := fakeclerk.New(t)
	spectest.Attach(t, fake)
	cfg := auth.Config{BaseURL: fake.URL, ClientID: fakeclerk.ClientID, PlatformAPIURL: fake.URL,
		BackendAPIURL: fake.URL, ConfigDir: filepath.Join(t.TempDir(), "clerk-mcp"), StoreMode: store.ModeFile}
	d, _, err := NewDeps(cfg, auth.SourceOptions{Recheck: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := &toolEnv{fake: fake, store: d.Store}
	return e.with(d, configure)
}

// with is a second server over e's fake and store, its tools built from d
// changed by configure.
func (e *toolEnv) with(d Deps, configure func(*Deps)) *toolEnv {
	if configure != nil {
		configure(&d)
	}
	n := &toolEnv{fake: e.fake, cfg: d.Config, deps: d, store: e.store, source: d.Source, tools: map[string]Tool{}}
	for _, tl := range All(d) {
		n.tools[tl.Name] = tl
	}
	return n
}

// login stores a session minted at the fake, expiring at expiry.
func (e *toolEnv) login(t *testing.T, expiry time.Time) *store.Session {
	t.Helper()
	tr := e.fake.Mint()
	s := &store.Session{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: "Bearer",
		Expiry: expiry, ObtainedAt: time.Now(), Issuer: e.cfg.BaseURL, ClientID: e.cfg.ClientID}
	if err := e.store.Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// call runs the tool name with args as the server does: args encoded as
// JSON, the handler All returns, its result encoded. It returns the text
// the agent would read, or the handler's error.
func (e *toolEnv) call(t *testing.T, name string, args map[string]any) (string, error) {
	t.Helper()
	tool, ok := e.tools[name]
	if !ok {
		t.Fatalf("no tool %q", name)
	}
	var raw json.RawMessage
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			t.Fatal(err)
		}
		raw = b
	}
	out, err := tool.Handler(context.Background(), raw)
	if err != nil {
		return "", err
	}
	text, err := json.Marshal(out)
	if err != nil {
		t.Fatalf("encode the %s result: %v", name, err)
	}
	return string(text), nil
}

// ok makes a call that must succeed and returns its text.
func (e *toolEnv) ok(t *testing.T, name string, args map[string]any) string {
	t.Helper()
	text, err := e.call(t, name, args)
	if err != nil {
		t.Fatalf("%s failed: %s", name, envelope.Marshal(err))
	}
	return text
}

// fail makes a call that must fail with reason and returns its envelope.
func (e *toolEnv) fail(t *testing.T, name string, args map[string]any, reason envelope.Reason) *envelope.Error {
	t.Helper()
	text, err := e.call(t, name, args)
	if err == nil {
		t.Fatalf("%s: want reason %s, got success: %s", name, reason, text)
	}
	return wantReason(t, err, reason)
}

// wantReason decodes err's envelope, as the server sends it, and asserts
// it has reason, a message and a remedy.
func wantReason(t *testing.T, err error, reason envelope.Reason) *envelope.Error {
	t.Helper()
	text := envelope.Marshal(err)
	var env envelope.Body
	if err := json.Unmarshal(text, &env); err != nil {
		t.Fatalf("the envelope is not JSON: %v", err)
	}
	body := env.Error
	if body == nil || body.Reason != reason || body.Message == "" || body.Remedy == "" {
		t.Fatalf("envelope = %s, want reason %s with message and remedy", text, reason)
	}
	return body
}

// decode decodes a result's text into a T.
func decode[T any](t *testing.T, text string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, text)
	}
	return v
}
