package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"

	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// not_logged_in names the issuer, profile and store it looked in, in the
// message and in the envelope's fields, and the remedy logs in to that
// profile.
func TestNotLoggedInSaysWhereItLooked(t *testing.T) {
	e := newTestEnv(t)
	e.cfg.Profile = "work"
	e.store = openStore(t, e.cfg)
	_, err := e.source(auth.SourceOptions{}).Token(context.Background())
	ae := wantReason(t, err, envelope.ReasonNotLoggedIn, false)
	if ae.Issuer != e.cfg.BaseURL || ae.Profile != "work" || ae.Store != e.store.Location() {
		t.Fatalf("envelope fields: issuer %q profile %q store %q", ae.Issuer, ae.Profile, ae.Store)
	}
	for _, want := range []string{e.cfg.BaseURL, `"work"`, e.store.File().Path()} {
		if !strings.Contains(ae.Message, want) {
			t.Errorf("message %q does not name %s", ae.Message, want)
		}
	}
	if !strings.Contains(ae.Remedy, "`clerk-mcp login --profile work`") {
		t.Errorf("remedy %q does not log in to the profile", ae.Remedy)
	}
}

// session_expired after invalid_grant says where too, and the default
// profile's remedy is plain `clerk-mcp login`.
func TestSessionExpiredSaysWhereItLooked(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(-time.Minute))
	e.fake.RevokeAll()
	_, err := e.source(auth.SourceOptions{}).Token(context.Background())
	ae := wantReason(t, err, envelope.ReasonSessionExpired, false)
	if ae.Issuer != e.cfg.BaseURL || ae.Profile != "default" || ae.Store == "" || !strings.Contains(ae.Message, e.cfg.BaseURL) {
		t.Fatalf("session_expired: %+v", ae)
	}
	if !strings.Contains(ae.Remedy, "`clerk-mcp login`") {
		t.Errorf("remedy %q", ae.Remedy)
	}
}
