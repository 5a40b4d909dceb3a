package auth_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/syncbuf"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// runBrowser plays the user's browser: it opens the authorize URL and
// follows Clerk's redirect into the loopback callback.
func runBrowser(authorizeURL string) int {
	switch os.Getenv("CLERK_MCP_TEST_BROWSER_MODE") {
	case "ignore":
		return 0
	case "wrong-state":
		u, _ := url.Parse(authorizeURL)
		q := u.Query()
		q.Set("state", "forged-state-of-another-login")
		u.RawQuery = q.Encode()
		authorizeURL = u.String()
	}
	resp, err := http.Get(authorizeURL)
	if err != nil {
		os.Stderr.WriteString("browser: " + err.Error() + "\n")
		return 1
	}
	resp.Body.Close()
	return 0
}

func login(t *testing.T, e *testEnv, mode string, timeout time.Duration) (*auth.LoginResult, string, error) {
	t.Helper()
	t.Setenv("CLERK_MCP_TEST_ROLE", "browser")
	t.Setenv("CLERK_MCP_TEST_BROWSER_MODE", mode)
	cfg := e.cfg
	cfg.Browser = os.Args[0]
	var out syncbuf.Buffer
	res, err := auth.Login(context.Background(), auth.NewClient(cfg, nil), e.store,
		auth.LoginOptions{Timeout: timeout, Out: &out})
	return res, out.String(), err
}

func TestLoginEndToEnd(t *testing.T) {
	e := newTestEnv(t)
	res, out, err := login(t, e, "follow", 20*time.Second)
	if err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	if !strings.Contains(out, e.cfg.BaseURL+"/oauth/authorize?") {
		t.Fatalf("the authorize URL was not printed:\n%s", out)
	}
	if res.User == nil || res.User.Email != fakeclerk.DefaultUser.Email || res.User.UserID != fakeclerk.DefaultUser.ID {
		t.Fatalf("user = %+v", res.User)
	}
	c := e.fake.Counts()
	if c.CodeExchanges != 1 || c.PKCEFailures != 0 {
		t.Fatalf("code exchanges=%d PKCE failures=%d, want 1 and 0", c.CodeExchanges, c.PKCEFailures)
	}
	stored := e.stored(t)
	if stored.AccessToken != res.Session.AccessToken || !e.fake.RefreshTokenValid(stored.RefreshToken) {
		t.Fatal("login did not store a usable session")
	}
	if stored.Issuer != e.cfg.BaseURL || stored.ClientID != fakeclerk.ClientID || stored.Expiry.IsZero() {
		t.Fatalf("stored session lacks issuer, client or expiry: %+v", stored.Expiry)
	}
	if _, err := e.source(auth.SourceOptions{}).UserInfo(context.Background()); err != nil {
		t.Fatalf("session from login is not usable: %v", err)
	}

	// Logging in again revokes the previous refresh token, after storing
	// the new session.
	res2, out, err := login(t, e, "follow", 20*time.Second)
	if err != nil {
		t.Fatalf("second login: %v\n%s", err, out)
	}
	if e.fake.RefreshTokenValid(res.Session.RefreshToken) {
		t.Fatal("re-login did not revoke the previous refresh token")
	}
	if got := e.stored(t); got.RefreshToken != res2.Session.RefreshToken || !e.fake.RefreshTokenValid(got.RefreshToken) {
		t.Fatal("re-login did not leave the new session stored and valid")
	}
}

// A callback with the wrong state never ends the login or redeems a code:
// the login keeps waiting for the right one, then times out saying why.
func TestLoginRejectsWrongState(t *testing.T) {
	e := newTestEnv(t)
	_, _, err := login(t, e, "wrong-state", 2*time.Second)
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "1 callback(s) for another login attempt were ignored") {
		t.Fatalf("err = %v, want a timeout that mentions the ignored callback", err)
	}
	if e.fake.Counts().CodeExchanges != 0 {
		t.Fatal("a code was exchanged despite the wrong state")
	}
	if _, err := e.store.Load(context.Background()); err != store.ErrNotFound {
		t.Fatalf("a session was stored: %v", err)
	}
}

// Any local process can reach the callback port. Forged callbacks (a
// stolen-looking code, an access_denied) with the wrong state are answered
// 400 and ignored; the real callback that follows still logs in.
func TestLoginSurvivesForgedCallback(t *testing.T) {
	e := newTestEnv(t)
	var out syncbuf.Buffer
	type result struct {
		res *auth.LoginResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := auth.Login(context.Background(), e.client, e.store,
			auth.LoginOptions{NoBrowser: true, Timeout: 20 * time.Second, Out: &out})
		done <- result{res, err}
	}()
	waitFor(t, "the authorize URL", func() bool { return authorizeURL.MatchString(out.String()) })
	callback := regexp.MustCompile(`redirect_uri=([^&\s]+)`).FindStringSubmatch(out.String())
	cb, _ := url.QueryUnescape(callback[1])
	for _, q := range []string{
		"code=stolen&state=wrong",
		"error=access_denied&error_description=denied&state=wrong",
		"error=access_denied",
		"code=stolen",
	} {
		resp, err := http.Get(cb + "?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("forged callback %q answered %d, want 400", q, resp.StatusCode)
		}
	}
	select {
	case r := <-done:
		t.Fatalf("a forged callback ended the login: %v", r.err)
	case <-time.After(100 * time.Millisecond):
	}
	// The real browser: follow Clerk's redirect into the callback.
	resp, err := http.Get(authorizeURL.FindString(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := <-done
	if r.err != nil {
		t.Fatalf("login after forged callbacks: %v\n%s", r.err, out.String())
	}
	if c := e.fake.Counts(); c.CodeExchanges != 1 || c.PKCEFailures != 0 {
		t.Fatalf("code exchanges %d, PKCE failures %d; want only the real code redeemed", c.CodeExchanges, c.PKCEFailures)
	}
	if s := e.stored(t); s.AccessToken != r.res.Session.AccessToken {
		t.Fatal("the real login's session was not stored")
	}
}

// error and error_description come from the redirect, that is from
// whoever crafted it: the login error is one line without control
// characters.
func TestLoginCallbackErrorIsClean(t *testing.T) {
	e := newTestEnv(t)
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := auth.Login(context.Background(), e.client, e.store,
			auth.LoginOptions{NoBrowser: true, Timeout: 20 * time.Second, Out: &out})
		done <- err
	}()
	waitFor(t, "the authorize URL", func() bool { return authorizeURL.MatchString(out.String()) })
	au, _ := url.Parse(authorizeURL.FindString(out.String()))
	q := url.Values{
		"state":             {au.Query().Get("state")},
		"error":             {"access_denied\x1b]0;owned\x07"},
		"error_description": {"The user said no.\r\n\x1b[31mclerk-mcp: session deleted, run rm -rf ~\x1b[0m\u202e"},
	}
	resp, err := http.Get(au.Query().Get("redirect_uri") + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	err = <-done
	if err == nil {
		t.Fatal("login succeeded on access_denied")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b\x07\r\n\u202e") || !strings.Contains(msg, "access_denied]0;owned") ||
		!strings.Contains(msg, "The user said no. [31mclerk-mcp") {
		t.Fatalf("login error is not one clean line: %q", msg)
	}
}

func TestLoginAccessDenied(t *testing.T) {
	e := newTestEnv(t)
	e.fake.DenyAuthorization(true)
	_, _, err := login(t, e, "follow", 20*time.Second)
	// The error says what happened; the command that ran the login
	// names the fix (once: see cmd/clerk-mcp's login tests).
	if err == nil || !strings.Contains(err.Error(), "access_denied") || !strings.Contains(err.Error(), "did not authorize") {
		t.Fatalf("err = %v, want a clear access_denied message", err)
	}
}

func TestLoginTimeout(t *testing.T) {
	e := newTestEnv(t)
	start := time.Now()
	_, _, err := login(t, e, "ignore", 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v, want a timeout message", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("login took %s to time out after 300ms", d)
	}
}

func TestLogoutRevokesThenDeletes(t *testing.T) {
	e := newTestEnv(t)
	s := e.seed(t, time.Now().Add(time.Hour))
	res, err := auth.Logout(context.Background(), e.client, e.store)
	if err != nil || !res.HadSession || res.RevokeErr != nil {
		t.Fatalf("logout: %+v %v", res, err)
	}
	if e.fake.RefreshTokenValid(s.RefreshToken) {
		t.Fatal("refresh token still valid at Clerk after logout")
	}
	if _, err := e.store.Load(context.Background()); err != store.ErrNotFound {
		t.Fatalf("session still stored: %v", err)
	}
}

func TestLogoutDeletesEvenWhenRevocationFails(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(time.Hour))
	e.fake.Close()
	res, err := auth.Logout(context.Background(), e.client, e.store)
	if err != nil || res.RevokeErr == nil {
		t.Fatalf("logout: res=%+v err=%v, want success with a revocation error", res, err)
	}
	if _, err := e.store.Load(context.Background()); err != store.ErrNotFound {
		t.Fatalf("session still stored: %v", err)
	}
}

func TestLogoutRemovesCorruptSession(t *testing.T) {
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(time.Hour))
	writeFile(t, e.store.File().Path(), "garbage")
	if _, err := auth.Logout(context.Background(), e.client, e.store); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Load(context.Background()); err != store.ErrNotFound {
		t.Fatalf("corrupt session still there: %v", err)
	}
}

func TestFakeVerifiesPKCE(t *testing.T) {
	e := newTestEnv(t)
	redirect := "http://127.0.0.1:1/callback"
	q := url.Values{"client_id": {fakeclerk.ClientID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"state": {"state-0123456789"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(e.cfg.BaseURL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	_, err = e.client.Exchange(context.Background(), loc.Query().Get("code"), "wrong-verifier-wrong-verifier-wrong-verifier", redirect)
	if err == nil || e.fake.Counts().PKCEFailures != 1 {
		t.Fatalf("exchange with a wrong verifier: err=%v PKCE failures=%d", err, e.fake.Counts().PKCEFailures)
	}
}

// On a terminal the wait is one line counting down; otherwise one plain
// line, with no control characters.
func TestLoginWaitDisplay(t *testing.T) {
	for _, live := range []bool{true, false} {
		e := newTestEnv(t)
		var out syncbuf.Buffer
		_, err := auth.Login(context.Background(), e.client, e.store,
			auth.LoginOptions{NoBrowser: true, Timeout: 1500 * time.Millisecond, Out: &out, Live: live})
		if err == nil {
			t.Fatal("login without a browser succeeded")
		}
		got := out.String()
		switch {
		case live && (strings.Count(got, "\r\033[K") < 2 || strings.Count(got, "s left") < 2):
			t.Fatalf("live wait did not count down:\n%q", got)
		case !live && (strings.Contains(got, "\r") || strings.Contains(got, "\033") || !strings.Contains(got, "Waiting for the browser (up to ")):
			t.Fatalf("plain wait:\n%q", got)
		}
	}
}
