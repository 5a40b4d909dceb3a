package auth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/store"
)

func TestTokenUsesValidSessionWithoutNetwork(t *testing.T) {
	e := newTestEnv(t)
	seeded := e.seed(t, time.Now().Add(time.Hour))
	src := e.source(auth.SourceOptions{})
	for range 3 {
		tok, err := src.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != seeded.AccessToken {
			t.Fatal("Token returned a different access token than the stored one")
		}
	}
	if c := e.fake.Counts(); c.RefreshAttempts != 0 {
		t.Fatalf("refresh attempts = %d, want 0", c.RefreshAttempts)
	}
}

func TestNotLoggedIn(t *testing.T) {
	e := newTestEnv(t)
	_, err := e.source(auth.SourceOptions{}).Token(context.Background())
	wantReason(t, err, envelope.ReasonNotLoggedIn, false)
}

// Rule 1: concurrent callers after expiry share one refresh.
func TestConcurrentCallersAfterExpiryMakeOneRefresh(t *testing.T) {
	e := newTestEnv(t)
	old := e.seed(t, time.Now().Add(-time.Minute))
	e.fake.SetRefreshDelay(50 * time.Millisecond) // keep the flight open while others arrive
	src := e.source(auth.SourceOptions{})
	var wg sync.WaitGroup
	tokens := make([]string, 50)
	errs := make([]error, 50)
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			<-start
			tok, err := src.Token(context.Background())
			tokens[i], errs[i] = tok.AccessToken, err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
		if tokens[i] == old.AccessToken || tokens[i] != tokens[0] {
			t.Fatalf("caller %d got a stale or different token", i)
		}
	}
	c := e.fake.Counts()
	if c.RefreshAttempts != 1 || c.Refreshes != 1 || c.InvalidGrants != 0 {
		t.Fatalf("refresh attempts=%d ok=%d invalid_grant=%d, want 1 1 0", c.RefreshAttempts, c.Refreshes, c.InvalidGrants)
	}
	if got := e.stored(t); got.AccessToken != tokens[0] || !e.fake.RefreshTokenValid(got.RefreshToken) {
		t.Fatal("the refreshed session was not persisted with a live refresh token")
	}
}

// Rule 5: a 401 on a token believed valid forces one refresh and one retry.
func TestUnauthorizedForcesOneRefreshAndRetry(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(time.Hour))
	src := e.source(auth.SourceOptions{})
	if _, err := src.UserInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.fake.InvalidateAccessTokens()
	info, err := src.UserInfo(context.Background())
	if err != nil {
		t.Fatalf("UserInfo after 401: %v", err)
	}
	if info.Email != fakeclerk.DefaultUser.Email {
		t.Fatalf("email = %q", info.Email)
	}
	c := e.fake.Counts()
	if c.Refreshes != 1 || c.Userinfo != 3 {
		t.Fatalf("refreshes=%d userinfo=%d, want 1 and 3 (ok, 401, retry)", c.Refreshes, c.Userinfo)
	}
}

// Rule 5 across goroutines: 24 callers that all see a 401 make one refresh.
func TestConcurrentUnauthorizedMakeOneRefresh(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(time.Hour))
	src := e.source(auth.SourceOptions{})
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.fake.InvalidateAccessTokens()
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for range 24 {
		wg.Go(func() {
			_, err := src.UserInfo(context.Background())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c := e.fake.Counts(); c.Refreshes != 1 || c.InvalidGrants != 0 {
		t.Fatalf("refreshes=%d invalid_grant=%d, want 1 and 0", c.Refreshes, c.InvalidGrants)
	}
}

// Rule 3: under the lock, a newer token in the store is used as is.
func TestRefreshAdoptsNewerStoredSession(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(-time.Minute))
	src := e.source(auth.SourceOptions{})
	// Another process refreshed already: the store holds a different token
	// that is inside the leeway but not expired.
	newer := e.seed(t, time.Now().Add(20*time.Second))
	newer.ObtainedAt = time.Now().Add(-time.Hour)
	e.store.Save(context.Background(), newer)
	before := e.fake.Counts().RefreshAttempts
	tok, err := src.Refresh(context.Background(), "some-token-that-was-refused")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != newer.AccessToken {
		t.Fatal("did not adopt the stored session")
	}
	if got := e.fake.Counts().RefreshAttempts; got != before {
		t.Fatalf("refresh attempts went from %d to %d, want no network call", before, got)
	}
}

// Rule 6: invalid_grant while the store already holds a newer refresh
// token deletes nothing.
func TestInvalidGrantWithNewerStoredSessionDeletesNothing(t *testing.T) {
	e := newTestEnv(t)
	old := e.seed(t, time.Now().Add(-time.Minute))
	// Spend the old refresh token elsewhere so Clerk refuses it.
	if _, err := e.client.Refresh(context.Background(), old.RefreshToken); err != nil {
		t.Fatal(err)
	}
	var newer *store.Session
	e.fake.OnRefresh(func(*http.Request) {
		// A writer that ignores the lock (an old clerk-mcp, a manual copy)
		// replaces the session while our refresh is in flight.
		if newer == nil {
			tr := e.fake.Mint()
			newer = &store.Session{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken,
				Expiry: time.Now().Add(time.Hour), Issuer: e.cfg.BaseURL, ClientID: e.cfg.ClientID}
			openStore(t, e.cfg).Save(context.Background(), newer)
		}
	})
	tok, err := e.source(auth.SourceOptions{}).Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if e.fake.Counts().InvalidGrants != 1 {
		t.Fatal("the refresh was not refused; the test did not exercise invalid_grant")
	}
	if got := e.stored(t); got.RefreshToken != newer.RefreshToken {
		t.Fatal("the newer session was deleted or replaced")
	}
	if tok.AccessToken != newer.AccessToken {
		t.Fatal("Token did not use the newer stored session")
	}
}

// Rule 6: invalid_grant for the stored refresh token deletes the session.
func TestInvalidGrantDeletesRefusedSession(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(-time.Minute))
	e.fake.RevokeAll()
	src := e.source(auth.SourceOptions{})
	_, err := src.Token(context.Background())
	wantReason(t, err, envelope.ReasonSessionExpired, false)
	if _, err := e.store.Load(context.Background()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stored session after invalid_grant: %v, want ErrNotFound", err)
	}
	_, err = src.Token(context.Background())
	wantReason(t, err, envelope.ReasonNotLoggedIn, false)
}

// Rule 6: 5xx and 429 are retryable and keep the session.
func TestServerErrorsKeepSession(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			e := newTestEnv(t)
			old := e.seed(t, time.Now().Add(-time.Minute))
			e.fake.FailRefreshes(status)
			src := e.source(auth.SourceOptions{})
			_, err := src.Token(context.Background())
			wantReason(t, err, envelope.ReasonRefreshFailed, true)
			if got := e.stored(t); got.RefreshToken != old.RefreshToken {
				t.Fatal("session changed after a failed refresh")
			}
			if _, err := src.Token(context.Background()); err != nil {
				t.Fatalf("retry after %d: %v", status, err)
			}
		})
	}
}

// Rule 6: other 4xx answers are session_expired but keep the session.
func TestInvalidClientKeepsSession(t *testing.T) {
	e := newTestEnv(t)
	old := e.seed(t, time.Now().Add(-time.Minute))
	e.fake.FailRefreshes(http.StatusUnauthorized)
	_, err := e.source(auth.SourceOptions{}).Token(context.Background())
	wantReason(t, err, envelope.ReasonSessionExpired, false)
	if got := e.stored(t); got.RefreshToken != old.RefreshToken {
		t.Fatal("session deleted after a non-invalid_grant 4xx")
	}
	// Rule 8: the failed refresh was not retried in another auth style.
	if c := e.fake.Counts(); c.RefreshAttempts != 1 || c.BasicAuth != 0 {
		t.Fatalf("refresh attempts=%d basic auth=%d, want 1 and 0", c.RefreshAttempts, c.BasicAuth)
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(-time.Minute))
	e.fake.Close()
	_, err := e.source(auth.SourceOptions{}).Token(context.Background())
	wantReason(t, err, envelope.ReasonRefreshFailed, true)
	if _, err := e.store.Load(context.Background()); err != nil {
		t.Fatalf("session lost after a network error: %v", err)
	}
}

// Rule 2: a lock held past the wait is a retryable error, with no refresh.
func TestLockTimeoutDoesNotRefresh(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(-time.Minute))
	unlock, err := openStore(t, e.cfg).Lock(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	src := e.source(auth.SourceOptions{LockWait: 200 * time.Millisecond})
	_, err = src.Token(context.Background())
	wantReason(t, err, envelope.ReasonRefreshFailed, true)
	if !errors.Is(err, store.ErrLockTimeout) {
		t.Fatalf("error does not wrap ErrLockTimeout: %v", err)
	}
	if c := e.fake.Counts(); c.RefreshAttempts != 0 {
		t.Fatalf("refresh attempts = %d without the lock, want 0", c.RefreshAttempts)
	}
}

// Rule 7: a cancelled caller does not abandon the rotation.
func TestCancelledCallerDoesNotLoseRotation(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(-time.Minute))
	src := e.source(auth.SourceOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The caller gives up once Clerk has spent the old refresh token, and
	// Clerk answers only after the caller has returned.
	gaveUp := make(chan struct{})
	var waitedOut atomic.Bool
	e.fake.OnRotate(func() {
		cancel()
		select {
		case <-gaveUp:
		case <-time.After(5 * time.Second):
			waitedOut.Store(true) // the caller waited for Clerk despite its cancelled context
		}
	})
	_, err := src.Token(ctx)
	close(gaveUp)
	if waitedOut.Load() {
		t.Fatal("Token kept its cancelled caller waiting until Clerk answered")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Token cancelled during the rotation: %v, want context.Canceled", err)
	}
	// The detached refresh finishes and persists the rotated token.
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := src.WaitRefreshes(wctx); err != nil {
		t.Fatal(err)
	}
	if s := e.stored(t); !e.fake.RefreshTokenValid(s.RefreshToken) || !s.Expiry.After(time.Now()) {
		t.Fatal("rotated session not persisted after the caller gave up")
	}
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := e.fake.Counts(); c.Refreshes != 1 || c.InvalidGrants != 0 {
		t.Fatalf("refreshes=%d invalid_grant=%d, want 1 and 0", c.Refreshes, c.InvalidGrants)
	}
}

// The leeway never exceeds half the lifetime: a short-lived token is used,
// not refreshed on every call.
func TestShortLivedTokenIsUsed(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetAccessTTL(10 * time.Second)
	e.seed(t, time.Now().Add(-time.Minute))
	src := e.source(auth.SourceOptions{})
	for range 20 {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if c := e.fake.Counts(); c.Refreshes != 1 {
		t.Fatalf("refreshes = %d for a 10s token used 20 times at once, want 1", c.Refreshes)
	}
}

// Without expires_in the expiry comes from the JWT's exp claim.
func TestExpiryFromJWTWhenExpiresInMissing(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(-time.Minute))
	e.fake.SetAccessTTL(30 * time.Minute)
	e.fake.SetTokenResponse(fakeclerk.TokenResponseOptions{OmitExpiresIn: true})
	tok, err := e.source(auth.SourceOptions{}).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(tok.Expiry); d < 29*time.Minute || d > 31*time.Minute {
		t.Fatalf("expiry in %s, want about 30m from the JWT", d)
	}
}

// Without a new refresh token in the answer the old one is kept.
func TestRefreshWithoutRotationKeepsRefreshToken(t *testing.T) {
	e := newTestEnv(t)
	old := e.seed(t, time.Now().Add(-time.Minute))
	e.fake.SetTokenResponse(fakeclerk.TokenResponseOptions{OmitRefreshToken: true})
	if _, err := e.source(auth.SourceOptions{}).Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.stored(t); got.RefreshToken != old.RefreshToken {
		t.Fatal("refresh token dropped when the server did not rotate it")
	}
}

// Rule 9: a running source notices a login or logout by another process.
func TestSourceFollowsOtherProcesses(t *testing.T) {
	e := newTestEnv(t)
	first := e.seed(t, time.Now().Add(time.Hour))
	clk := newTestClock()
	src := e.source(auth.SourceOptions{Recheck: time.Second, Now: clk.Now})
	tok, err := src.Token(context.Background())
	if err != nil || tok.AccessToken != first.AccessToken {
		t.Fatalf("first token: %v", err)
	}
	other := openStore(t, e.cfg) // another process's view of the same store
	tr := e.fake.Mint()
	second := &store.Session{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken,
		Expiry: time.Now().Add(time.Hour), Issuer: e.cfg.BaseURL, ClientID: e.cfg.ClientID}
	if err := other.Save(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second) // the next call checks the store's version
	if tok, err := src.Token(context.Background()); err != nil || tok.AccessToken != second.AccessToken {
		t.Fatalf("after a new login elsewhere: err=%v, new token used=%v", err, tok.AccessToken == second.AccessToken)
	}
	if err := other.Delete(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	_, err = src.Token(context.Background())
	wantReason(t, err, envelope.ReasonNotLoggedIn, false)
}

func TestCorruptSessionIsStoreUnavailable(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(time.Hour))
	path := e.store.File().Path()
	writeFile(t, path, `{"access_token": "abc", "refresh_`)
	_, err := e.source(auth.SourceOptions{}).Token(context.Background())
	ae := wantReason(t, err, envelope.ReasonStoreUnavailable, false)
	if !strings.Contains(ae.Message, path) || !strings.Contains(ae.Remedy, "logout") {
		t.Fatalf("message %q / remedy %q should name the file and the fix", ae.Message, ae.Remedy)
	}
}
