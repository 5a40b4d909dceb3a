package tools

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/spectest"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// apiEnv is the api tool of one server process against a fake Clerk, and
// the terminal next to it (its own client and store over the same config
// directory) where the user runs `clerk-mcp login` and `logout`.
type apiEnv struct {
	fake *fakeclerk.Server
	cfg  auth.Config
	api  *api
	src  *auth.Source

	// The terminal's side.
	termClient *auth.Client
	termStore  *store.Store
}

func newAPIEnv(t *testing.T, configure func(*Deps)) *apiEnv {
	t.Helper()
	fake := fakeclerk.New(t)
	spectest.Attach(t, fake)
	cfg := auth.Config{BaseURL: fake.URL, ClientID: fakeclerk.ClientID, PlatformAPIURL: fake.URL,
		BackendAPIURL: fake.URL, ConfigDir: filepath.Join(t.TempDir(), "clerk-mcp"), StoreMode: store.ModeFile}
	e := &apiEnv{fake: fake, cfg: cfg}
	// Recheck: notice the terminal's login or logout at once rather than
	// within a second.
	d, _, err := NewDeps(cfg, auth.SourceOptions{Recheck: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.src = d.Source
	if configure != nil {
		configure(&d)
	}
	e.cfg = d.Config
	e.api = newAPI(d)
	e.termClient = auth.NewClient(cfg, nil)
	e.termStore = e.openStore(t)
	return e
}

func (e *apiEnv) openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := e.cfg.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// login runs `clerk-mcp login` in the terminal: the real PKCE flow, with a
// "browser" that follows the fake's approval back to the callback.
func (e *apiEnv) login(t *testing.T) *store.Session {
	t.Helper()
	res, err := auth.Login(context.Background(), e.termClient, e.termStore, auth.LoginOptions{
		Timeout: 10 * time.Second,
		Open: func(u string) error {
			resp, err := http.Get(u)
			if err != nil {
				return err
			}
			return resp.Body.Close()
		},
	})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	waitRecheck()
	return res.Session
}

// logout runs `clerk-mcp logout` in the terminal.
func (e *apiEnv) logout(t *testing.T) {
	t.Helper()
	if _, err := auth.Logout(context.Background(), e.termClient, e.termStore); err != nil {
		t.Fatalf("logout: %v", err)
	}
	waitRecheck()
}

// waitRecheck outlasts the Source's recheck interval, so its next Token
// looks at the store.
func waitRecheck() { time.Sleep(20 * time.Millisecond) }

func (e *apiEnv) call(t *testing.T, args APIArgs) (*APIResult, error) {
	t.Helper()
	return e.api.Call(context.Background(), args)
}

// users is GET /users on the Backend API with the fake application's
// development key resolved through the Platform API.
func (e *apiEnv) users() APIArgs {
	return APIArgs{Target: TargetBackend, Path: "/users", ApplicationID: e.fake.ApplicationID()}
}

// ok makes a call that must succeed.
func (e *apiEnv) ok(t *testing.T, args APIArgs) *APIResult {
	t.Helper()
	res, err := e.call(t, args)
	if err != nil {
		t.Fatalf("call failed: %v", err)
	}
	return res
}

// reason returns the envelope reason of a failed call.
func reason(t *testing.T, err error) envelope.Reason {
	t.Helper()
	var te *envelope.Error
	if errors.As(err, &te) {
		return te.Reason
	}
	if err == nil {
		t.Fatal("call succeeded, want an error")
	}
	return envelope.From(err).Reason
}

// shown is everything a call shows the agent or writes to the log: the
// result as JSON, or the error's envelope fields and its Error() text.
func shown(res *APIResult, err error) string {
	if err != nil {
		var te *envelope.Error
		if errors.As(err, &te) {
			b, _ := json.Marshal(map[string]any{"message": te.Message, "remedy": te.Remedy, "errors": te.Errors, "trace": te.TraceID})
			return string(b) + "\n" + err.Error()
		}
		return err.Error()
	}
	b, _ := json.Marshal(res)
	return string(b)
}

// visible is s and every string a reader decoding it as JSON would see,
// strings that hold JSON (body_text) decoded in turn: a secret must not
// appear in any of them.
func visible(s string) string {
	var sb strings.Builder
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		switch x := v.(type) {
		case string:
			sb.WriteString(x + "\n")
			var inner any
			if depth < 4 && json.Unmarshal([]byte(x), &inner) == nil {
				walk(inner, depth+1)
			}
		case map[string]any:
			for k, e := range x {
				sb.WriteString(k + "\n")
				walk(e, depth)
			}
		case []any:
			for _, e := range x {
				walk(e, depth)
			}
		}
	}
	sb.WriteString(s + "\n")
	for _, line := range strings.Split(s, "\n") {
		walk(line, 0)
	}
	return sb.String()
}

// noLeak fails if any secret appears in what a call showed.
func noLeak(t *testing.T, what, out string, secrets ...string) {
	t.Helper()
	all := visible(out)
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			t.Errorf("%s: a credential (%.12s...) is visible:\n%s", what, s, out)
		}
	}
}
