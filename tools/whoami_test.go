package tools

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
)

func TestWhoami(t *testing.T) {
	e := newToolEnv(t, nil)
	e.login(t, time.Now().Add(time.Hour))
	got := decode[WhoamiResult](t, e.ok(t, "whoami", nil))
	u := fakeclerk.DefaultUser
	if got.UserID != u.ID || got.Email != u.Email || got.Name != u.Name || got.Auth != "oauth" || got.Issuer != e.cfg.BaseURL || got.ExpiresAt == "" {
		t.Fatalf("whoami = %+v", got)
	}
	// The server sends a result as structuredContent when the tool
	// declares an output schema (server tests check it arrives).
	if e.tools["whoami"].OutputSchema == nil {
		t.Fatal("whoami declares no output schema")
	}
}

func TestWhoamiWithPlatformAPIKey(t *testing.T) {
	e := newToolEnv(t, nil)
	k := e.with(e.deps, func(d *Deps) { d.Config.PlatformAPIKey = e.fake.PlatformAPIKey() })
	text, err := k.call(t, "whoami", nil)
	if err != nil || !strings.Contains(text, `"auth":"platform_api_key"`) {
		t.Fatalf("whoami with a platform key: %s %v", text, err)
	}
}

// Each way whoami fails has its reason.
func TestWhoamiReasons(t *testing.T) {
	t.Run("not_logged_in", func(t *testing.T) {
		e := newToolEnv(t, nil)
		e.fail(t, "whoami", nil, envelope.ReasonNotLoggedIn)
	})
	t.Run("session_expired", func(t *testing.T) {
		e := newToolEnv(t, nil)
		e.login(t, time.Now().Add(-time.Minute))
		e.fake.RevokeAll()
		e.fail(t, "whoami", nil, envelope.ReasonSessionExpired)
		// The refused session was deleted: the next call says not_logged_in.
		e.fail(t, "whoami", nil, envelope.ReasonNotLoggedIn)
	})
	t.Run("refresh_failed", func(t *testing.T) {
		e := newToolEnv(t, nil)
		e.login(t, time.Now().Add(-time.Minute))
		e.fake.FailRefreshes(503)
		if b := e.fail(t, "whoami", nil, envelope.ReasonRefreshFailed); !b.Retryable {
			t.Fatal("refresh_failed must be retryable")
		}
		if _, err := e.call(t, "whoami", nil); err != nil {
			t.Fatalf("retry after 503: %s", envelope.Marshal(err))
		}
	})
	t.Run("store_unavailable", func(t *testing.T) {
		e := newToolEnv(t, nil)
		e.login(t, time.Now().Add(time.Hour))
		if err := os.WriteFile(e.store.File().Path(), []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		b := e.fail(t, "whoami", nil, envelope.ReasonStoreUnavailable)
		if !strings.Contains(b.Message, e.store.File().Path()) {
			t.Fatalf("message %q does not name the file", b.Message)
		}
	})
}

// The whoami tool says which profile the server runs as.
func TestWhoamiNamesProfile(t *testing.T) {
	e := newAPIEnv(t, func(d *Deps) { d.Config.Profile = "work" })
	d := depsFor(t, e.cfg)
	e.termStore = d.Store
	e.login(t)
	res, err := Whoami(context.Background(), d)
	if err != nil || res.Profile != "work" {
		t.Fatalf("whoami: %v %+v", err, res)
	}
}
