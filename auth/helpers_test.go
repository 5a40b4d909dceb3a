package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/spectest"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// testEnv is a fake Clerk plus a file store in a fresh config directory.
type testEnv struct {
	fake   *fakeclerk.Server
	cfg    auth.Config
	store  *store.Store
	client *auth.Client
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	fake := fakeclerk.New(t)
	spectest.Attach(t, fake)
	cfg := auth.Config{
		BaseURL:        fake.URL,
		ClientID:       fakeclerk.ClientID,
		PlatformAPIURL: fake.URL,
		BackendAPIURL:  fake.URL,
		ConfigDir:      t.TempDir(),
		StoreMode:      store.ModeFile,
	}
	return &testEnv{fake: fake, cfg: cfg, store: openStore(t, cfg), client: auth.NewClient(cfg, nil)}
}

func openStore(t *testing.T, cfg auth.Config) *store.Store {
	t.Helper()
	st, err := cfg.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *testEnv) source(opts auth.SourceOptions) *auth.Source {
	return auth.NewSource(e.store, e.client, opts)
}

// seed logs in at the fake and stores the session with the given expiry.
func (e *testEnv) seed(t *testing.T, expiry time.Time) *store.Session {
	t.Helper()
	tr := e.fake.Mint()
	s := &store.Session{
		AccessToken:  tr.AccessToken,
		RefreshToken: tr.RefreshToken,
		TokenType:    "Bearer",
		Expiry:       expiry,
		ObtainedAt:   expiry.Add(-time.Hour),
		Issuer:       e.cfg.BaseURL,
		ClientID:     e.cfg.ClientID,
	}
	if err := e.store.Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// expire rewrites the stored session as if its access token had expired.
func (e *testEnv) expire(t *testing.T) *store.Session {
	t.Helper()
	s, err := e.store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Expiry = time.Now().Add(-time.Second)
	s.ObtainedAt = s.Expiry.Add(-time.Hour)
	if err := e.store.Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *testEnv) stored(t *testing.T) *store.Session {
	t.Helper()
	s, err := e.store.Load(context.Background())
	if err != nil {
		t.Fatalf("load stored session: %v", err)
	}
	return s
}

func wantReason(t *testing.T, err error, reason envelope.Reason, retryable bool) *envelope.Error {
	t.Helper()
	var ae *envelope.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *envelope.Error with reason %s", err, err, reason)
	}
	if ae.Reason != reason || ae.Retryable != retryable {
		t.Fatalf("reason = %s retryable = %v, want %s %v (%v)", ae.Reason, ae.Retryable, reason, retryable, err)
	}
	if ae.Message == "" || ae.Remedy == "" {
		t.Fatalf("envelope without message or remedy: %+v", ae)
	}
	return ae
}
