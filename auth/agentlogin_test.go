package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// noFollow is a browser that stops at Clerk's redirect, so that a test
// can deliver (or hold back) the callback itself.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize approves the login at the fake and returns the callback URL
// Clerk redirected to, without visiting it.
func authorize(t *testing.T, authURL string) string {
	t.Helper()
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || loc == "" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, loc)
	}
	return loc
}

func ended(t *testing.T, p *auth.PendingLogin) error {
	t.Helper()
	select {
	case <-p.Done():
		return p.Err()
	case <-time.After(20 * time.Second):
		t.Fatal("the pending login did not end")
	}
	return nil
}

func TestAgentLoginJoinsAndCompletes(t *testing.T) {
	e := newTestEnv(t)
	// A browser that would complete the login if anything opened it:
	// an agent login never does.
	t.Setenv("CLERK_MCP_TEST_ROLE", "browser")
	cfg := e.cfg
	cfg.Browser = os.Args[0]
	al := auth.NewAgentLogin(auth.NewClient(cfg, nil), e.store, auth.AgentLoginOptions{})
	defer al.Close()

	p, err := al.Start(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if time.Until(p.ExpiresAt) < 9*time.Minute || time.Until(p.ExpiresAt) > 10*time.Minute {
		t.Fatalf("expires at %s, want in 10 minutes", p.ExpiresAt)
	}
	again, _ := al.Start(time.Now())
	if again != p {
		t.Fatal("a second Start did not join the pending login")
	}
	// A window for a browser that must never start: no clock or signal can
	// mark an event that does not happen. The count is checked again below.
	time.Sleep(300 * time.Millisecond)
	if n := e.fake.Counts().Authorize; n != 0 {
		t.Fatalf("the authorize URL was visited %d times without the user: a browser was opened", n)
	}

	resp, err := http.Get(p.URL) // the user, following the link
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("callback page: %d", resp.StatusCode)
	}
	if err := ended(t, p); err != nil {
		t.Fatalf("login: %v", err)
	}
	if !e.fake.RefreshTokenValid(e.stored(t).RefreshToken) {
		t.Fatal("the stored session is not the one Clerk issued")
	}
	if n := e.fake.Counts().Authorize; n != 1 {
		t.Fatalf("the authorize URL was visited %d times, want once by the user: a browser was opened", n)
	}
	next, err := al.Start(time.Now())
	if err != nil || next == p || next.ID == p.ID {
		t.Fatalf("after the login ended, Start = %v, %v; want a new login", next, err)
	}
}

// A callback with another state is answered 400 and ignored: the login
// goes on and the right callback still completes it.
func TestAgentLoginIgnoresWrongState(t *testing.T) {
	e := newTestEnv(t)
	al := auth.NewAgentLogin(e.client, e.store, auth.AgentLoginOptions{})
	defer al.Close()
	p, err := al.Start(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	callback := authorize(t, p.URL)
	forged, _ := url.Parse(callback)
	q := forged.Query()
	q.Set("state", "state-of-another-login")
	forged.RawQuery = q.Encode()
	resp, err := http.Get(forged.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong state answered %d, want 400", resp.StatusCode)
	}
	select {
	case <-p.Done():
		t.Fatalf("a wrong-state callback ended the login: %v", p.Err())
	case <-time.After(200 * time.Millisecond):
	}
	resp, err = http.Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := ended(t, p); err != nil {
		t.Fatalf("login after a forged callback: %v", err)
	}
	e.stored(t)
}

// A session stored by anyone else ends the pending login; its listener
// closes and a late callback changes nothing.
func TestAgentLoginEndsWhenASessionAppears(t *testing.T) {
	e := newTestEnv(t)
	al := auth.NewAgentLogin(e.client, e.store, auth.AgentLoginOptions{Watch: 50 * time.Millisecond})
	defer al.Close()
	p, err := al.Start(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	callback := authorize(t, p.URL)
	other := e.seed(t, time.Now().Add(time.Hour)) // `clerk-mcp login` in a terminal
	if err := ended(t, p); err != nil {
		t.Fatalf("pending login ended with %v, want nil (a session appeared)", err)
	}
	if resp, err := http.Get(callback); err == nil {
		resp.Body.Close()
		t.Fatalf("a late callback reached the closed listener: %d", resp.StatusCode)
	}
	if got := e.stored(t); got.RefreshToken != other.RefreshToken {
		t.Fatal("the late callback replaced the session stored meanwhile")
	}
}

func TestAgentLoginExpiresAndAbandons(t *testing.T) {
	e := newTestEnv(t)
	al := auth.NewAgentLogin(e.client, e.store, auth.AgentLoginOptions{TTL: 300 * time.Millisecond})
	p, err := al.Start(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	callback := authorize(t, p.URL)
	if err := ended(t, p); !errors.Is(err, auth.ErrLoginExpired) {
		t.Fatalf("err = %v, want ErrLoginExpired", err)
	}
	if resp, err := http.Get(callback); err == nil {
		resp.Body.Close()
		t.Fatal("the listener of an expired login still answers")
	}

	q, err := al.Start(time.Now())
	if err != nil || q == p {
		t.Fatalf("Start after expiry = %v, %v", q, err)
	}
	callback = authorize(t, q.URL)
	q.Abandon() // the user declined
	if err := ended(t, q); !errors.Is(err, auth.ErrLoginAbandoned) {
		t.Fatalf("err = %v, want ErrLoginAbandoned", err)
	}
	if resp, err := http.Get(callback); err == nil {
		resp.Body.Close()
		t.Fatal("the listener of an abandoned login still answers")
	}
	if _, err := e.store.Load(context.Background()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a declined login stored something: %v", err)
	}
	al.Close()
	if _, err := al.Start(time.Now()); err == nil {
		t.Fatal("Start after Close started a login")
	}
}
