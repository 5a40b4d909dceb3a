package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/syncbuf"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// failingSaves is the real store with writes that fail while broken is set,
// as they do on a full disk or a config directory made read-only.
type failingSaves struct {
	*store.Store
	broken atomic.Bool
	saves  atomic.Int32
}

var errDiskFull = errors.New("write /config/session.json: no space left on device")

func (f *failingSaves) Save(ctx context.Context, s *store.Session) error {
	f.saves.Add(1)
	if f.broken.Load() {
		return errDiskFull
	}
	return f.Store.Save(ctx, s)
}

// Disk trouble at the moment of a refresh: the call still gets the new
// token, the failure is visible, later calls refresh from memory and retry
// the write, and once the disk recovers nothing has been lost.
func TestDiskTroubleKeepsRotatedSessionAndRetriesWrite(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetAccessTTL(2 * time.Second)
	old := e.seed(t, time.Now().Add(-time.Minute))
	st := &failingSaves{Store: e.store}
	st.broken.Store(true)
	logs := &syncbuf.Buffer{}
	// Expiry and rechecks follow clk, so the steps below need no sleeps.
	clk := newTestClock()
	auth.SetClientClock(e.client, clk.Now)
	const recheck = 50 * time.Millisecond
	src := auth.NewSource(st, e.client, auth.SourceOptions{Recheck: recheck, Now: clk.Now,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatalf("refresh with a failing write: %v", err)
	}
	if !errors.Is(src.PendingWrite(), errDiskFull) {
		t.Fatalf("PendingWrite() = %v, want the write error", src.PendingWrite())
	}
	if !strings.Contains(logs.String(), "could not persist") {
		t.Fatalf("the failed write was not logged:\n%s", logs)
	}
	if got := e.stored(t); got.RefreshToken != old.RefreshToken {
		t.Fatal("the store changed although every write failed")
	}
	// The token expires again while the disk is still broken: the refresh
	// must use the refresh token held in memory, not the spent stored one.
	clk.Advance(2 * time.Second)
	tok2, err := src.Token(context.Background())
	if err != nil {
		t.Fatalf("second refresh with the disk still broken: %v", err)
	}
	if tok2.AccessToken == tok.AccessToken {
		t.Fatal("token not refreshed after its expiry")
	}
	if c := e.fake.Counts(); c.InvalidGrants != 0 || c.Refreshes != 2 {
		t.Fatalf("refreshes=%d invalid_grant=%d, want 2 and 0", c.Refreshes, c.InvalidGrants)
	}
	savesBefore := st.saves.Load()
	clk.Advance(recheck)
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st.saves.Load() == savesBefore {
		t.Fatal("a later call did not retry the write")
	}

	st.broken.Store(false)
	clk.Advance(recheck)
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := src.PendingWrite(); err != nil {
		t.Fatalf("PendingWrite() = %v after the disk recovered", err)
	}
	// A restart finds the session the broken disk could not take.
	stored := e.stored(t)
	if stored.AccessToken != tok2.AccessToken || !e.fake.RefreshTokenValid(stored.RefreshToken) {
		t.Fatal("the stored session is not the one refreshed while the disk was broken")
	}
	fresh := e.source(auth.SourceOptions{Now: clk.Now})
	if got, err := fresh.Token(context.Background()); err != nil || got.AccessToken != tok2.AccessToken {
		t.Fatalf("new process: %v", err)
	}
}

// Clerk misbehaving at the token endpoint: each answer gets a clear,
// correctly retryable reason and never destroys the stored session.
func TestMalformedTokenAnswersKeepSession(t *testing.T) {
	cases := []struct {
		name      string
		fault     fakeclerk.Fault
		reason    envelope.Reason
		retryable bool
	}{
		{"200 not JSON", fakeclerk.Fault{Status: 200, ContentType: "application/json", Body: "{\"access_tok"}, envelope.ReasonRefreshFailed, true},
		{"200 HTML", fakeclerk.Fault{Status: 200, ContentType: "text/html", Body: "<html><body>Welcome</body></html>"}, envelope.ReasonRefreshFailed, true},
		{"200 JSON without access_token", fakeclerk.Fault{Status: 200, Body: `{"token_type":"Bearer"}`}, envelope.ReasonRefreshFailed, true},
		{"502 HTML page", fakeclerk.Fault{Status: 502, ContentType: "text/html", Body: "<html><h1>502 Bad Gateway</h1></html>"}, envelope.ReasonRefreshFailed, true},
		{"503 empty", fakeclerk.Fault{Status: 503, ContentType: "text/plain"}, envelope.ReasonRefreshFailed, true},
		{"403 HTML from a proxy", fakeclerk.Fault{Status: 403, ContentType: "text/html", Body: "<html>Forbidden</html>"}, envelope.ReasonSessionExpired, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			old := e.seed(t, time.Now().Add(-time.Minute))
			e.fake.FailRefreshesWith(tc.fault)
			src := e.source(auth.SourceOptions{})
			_, err := src.Token(context.Background())
			ae := wantReason(t, err, tc.reason, tc.retryable)
			if strings.Contains(ae.Error(), "<html") || strings.Contains(ae.Error(), "Welcome") {
				t.Fatalf("the response body leaked into the error: %v", ae)
			}
			if got := e.stored(t); got.RefreshToken != old.RefreshToken {
				t.Fatal("stored session changed after a malformed answer")
			}
			// The refresh token was not spent: the next try works.
			if _, err := src.Token(context.Background()); err != nil {
				t.Fatalf("retry after the fault: %v", err)
			}
		})
	}
}

// A token endpoint slower than the refresh timeout is a retryable
// refresh_failed, and the session survives it.
func TestSlowTokenEndpointIsRetryable(t *testing.T) {
	e := newTestEnv(t)
	old := e.seed(t, time.Now().Add(-time.Minute))
	release := make(chan struct{})
	e.fake.OnRefresh(func(*http.Request) { <-release })
	defer close(release)
	src := e.source(auth.SourceOptions{RefreshTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := src.Token(context.Background())
	wantReason(t, err, envelope.ReasonRefreshFailed, true)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("gave up after %s, want about the 200ms refresh timeout", d)
	}
	if got := e.stored(t); got.RefreshToken != old.RefreshToken {
		t.Fatal("session changed after a timeout")
	}
}

// A JWT without exp and no expires_in: no expiry is known, so the token is
// used until Clerk refuses it, then refreshed once.
func TestTokenWithoutAnyExpiryRefreshesOn401(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(-time.Minute))
	e.fake.SetTokenResponse(fakeclerk.TokenResponseOptions{OmitExpiresIn: true, OmitJWTExp: true})
	src := e.source(auth.SourceOptions{})
	tok, err := src.Token(context.Background())
	if err != nil || !tok.Expiry.IsZero() {
		t.Fatalf("Token = %+v, %v; want a token with no expiry", tok, err)
	}
	for range 5 {
		if _, err := src.UserInfo(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	e.fake.InvalidateAccessTokens()
	if _, err := src.UserInfo(context.Background()); err != nil {
		t.Fatalf("after a 401: %v", err)
	}
	if c := e.fake.Counts(); c.Refreshes != 2 {
		t.Fatalf("refreshes = %d, want 2 (the expired seed, then the 401)", c.Refreshes)
	}
}

// A local clock hours off Clerk's: with exp read from the JWT, the token's
// lifetime still counts from our clock, so there is no refresh loop and no
// early session_expired, and doctor's clock check can see the skew.
func TestClockSkewNeitherLoopsNorExpires(t *testing.T) {
	for _, skew := range []time.Duration{3 * time.Hour, -3 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			e := newTestEnv(t)
			e.fake.SetAccessTTL(10 * time.Minute)
			e.fake.SetTokenResponse(fakeclerk.TokenResponseOptions{OmitExpiresIn: true})
			now := func() time.Time { return time.Now().Add(skew) }
			e.seed(t, now().Add(-time.Minute))
			auth.SetClientClock(e.client, now)
			src := e.source(auth.SourceOptions{Now: now})
			for range 20 {
				if _, err := src.UserInfo(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if c := e.fake.Counts(); c.Refreshes != 1 {
				t.Fatalf("%d refreshes for 20 calls with the clock %s off, want 1", c.Refreshes, skew)
			}
			sess := e.stored(t)
			if left := sess.Expiry.Sub(now()); left < 9*time.Minute || left > 11*time.Minute {
				t.Fatalf("token valid for %s on our clock, want about 10m", left)
			}
			claims, _ := auth.ParseJWTClaims(sess.AccessToken)
			if got := sess.ObtainedAt.Sub(claims.IssuedAt).Round(time.Hour); got != skew {
				t.Fatalf("measured skew %s, want %s", got, skew)
			}
		})
	}
}

func TestFakeFaultStatusesAreWhatTheyClaim(t *testing.T) {
	// Guard for the table above: a fault really answers with its status.
	e := newTestEnv(t)
	e.fake.FailRefreshesWith(fakeclerk.Fault{Status: 502, ContentType: "text/html", Body: "<html>"})
	resp, err := http.PostForm(e.fake.URL+"/oauth/token", map[string][]string{
		"grant_type": {"refresh_token"}, "client_id": {fakeclerk.ClientID}, "refresh_token": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "text/html" {
		t.Fatalf("fault answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
