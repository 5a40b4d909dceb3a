package auth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/syncbuf"
)

var authorizeURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/oauth/authorize\?\S+`)

// waitFor polls until cond holds or fails the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // poll interval: what cond reads (output, fake counters) has no signal to wait on
	}
}

// Over SSH the browser cannot reach the loopback callback; the user pastes
// the address it ended on, and the login completes from that.
func TestLoginWithPastedRedirect(t *testing.T) {
	e := newTestEnv(t)
	var out syncbuf.Buffer
	pasteR, pasteW := io.Pipe()
	type result struct {
		res *auth.LoginResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := auth.Login(context.Background(), e.client, e.store,
			auth.LoginOptions{NoBrowser: true, Timeout: 20 * time.Second, Out: &out, Paste: pasteR})
		done <- result{res, err}
	}()
	waitFor(t, "the authorize URL", func() bool { return authorizeURL.MatchString(out.String()) })
	// The remote browser: Clerk redirects to 127.0.0.1 on the user's laptop,
	// which is not this machine; the redirect is not followed.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authorizeURL.FindString(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	redirected := resp.Header.Get("Location")
	if !strings.Contains(redirected, "code=") {
		t.Fatalf("no redirect with a code: %d %q", resp.StatusCode, redirected)
	}
	io.WriteString(pasteW, "what do I paste?\n")
	waitFor(t, "the hint for a wrong paste", func() bool { return strings.Contains(out.String(), "not the address") })
	io.WriteString(pasteW, "  "+redirected+"  \n")
	r := <-done
	if r.err != nil {
		t.Fatalf("login with a pasted URL: %v\n%s", r.err, out.String())
	}
	if r.res.User == nil || r.res.User.Email != fakeclerk.DefaultUser.Email {
		t.Fatalf("login result %+v", r.res)
	}
	if s := e.stored(t); !e.fake.RefreshTokenValid(s.RefreshToken) {
		t.Fatal("stored session is not live")
	}
	if c := e.fake.Counts(); c.CodeExchanges != 1 || c.PKCEFailures != 0 {
		t.Fatalf("code exchanges %d, PKCE failures %d", c.CodeExchanges, c.PKCEFailures)
	}
}

// A pasted URL carrying another login's state (a stale tab) is refused
// with a hint, and the right one pasted next still logs in.
func TestPastedRedirectWithWrongStateIsIgnored(t *testing.T) {
	e := newTestEnv(t)
	var out syncbuf.Buffer
	pasteR, pasteW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := auth.Login(context.Background(), e.client, e.store,
			auth.LoginOptions{NoBrowser: true, Timeout: 20 * time.Second, Out: &out, Paste: pasteR})
		done <- err
	}()
	waitFor(t, "the authorize URL", func() bool { return authorizeURL.MatchString(out.String()) })
	port := regexp.MustCompile(`127\.0\.0\.1:(\d+)/callback`).FindStringSubmatch(out.String())
	io.WriteString(pasteW, "http://127.0.0.1:"+port[1]+"/callback?code=stolen&state=forged\n")
	waitFor(t, "the hint for another attempt's address", func() bool { return strings.Contains(out.String(), "another login attempt") })
	if len(done) > 0 {
		t.Fatalf("a forged paste ended the login: %v", <-done)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authorizeURL.FindString(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	io.WriteString(pasteW, resp.Header.Get("Location")+"\n")
	if err := <-done; err != nil {
		t.Fatalf("login after a forged paste: %v\n%s", err, out.String())
	}
	if c := e.fake.Counts(); c.CodeExchanges != 1 {
		t.Fatalf("code exchanges %d, want only the real code", c.CodeExchanges)
	}
}

func deviceLogin(t *testing.T, e *testEnv, opts fakeclerk.DeviceOptions, user func(code string)) (*auth.LoginResult, string, error) {
	t.Helper()
	e.fake.SetDeviceOptions(opts)
	var out syncbuf.Buffer
	lo := auth.LoginOptions{Timeout: 20 * time.Second, Out: &out}
	auth.SetPollUnit(&lo, 10*time.Millisecond)
	type result struct {
		res *auth.LoginResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := auth.LoginDevice(context.Background(), e.client, e.store, lo)
		done <- result{res, err}
	}()
	code := regexp.MustCompile(`enter the code\s+(\S+)`)
	waitFor(t, "the user code", func() bool { return code.MatchString(out.String()) || len(done) > 0 })
	if m := code.FindStringSubmatch(out.String()); m != nil && user != nil {
		user(m[1])
	}
	r := <-done
	return r.res, out.String(), r.err
}

func TestDeviceLogin(t *testing.T) {
	e := newTestEnv(t)
	res, out, err := deviceLogin(t, e, fakeclerk.DeviceOptions{Interval: 1, SlowDown: 1}, func(code string) {
		waitFor(t, "pending polls", func() bool { return e.fake.Counts().DevicePolls >= 3 })
		if !e.fake.ApproveDevice(code) {
			t.Errorf("unknown user code %q", code)
		}
	})
	if err != nil {
		t.Fatalf("device login: %v\n%s", err, out)
	}
	if res.User == nil || res.User.UserID != fakeclerk.DefaultUser.ID || !strings.Contains(out, "/oauth/device") {
		t.Fatalf("result %+v\n%s", res, out)
	}
	if s := e.stored(t); !e.fake.RefreshTokenValid(s.RefreshToken) {
		t.Fatal("stored session is not live")
	}
	// The interval is honoured: 1 unit (10 ms) to start, 6 after slow_down.
	polls := e.fake.DevicePollTimes()
	if len(polls) < 4 {
		t.Fatalf("%d polls", len(polls))
	}
	if gap := polls[1].Sub(polls[0]); gap < 55*time.Millisecond {
		t.Fatalf("poll after slow_down came %s later, want the interval raised by 5 s (50 ms here)", gap)
	}
	for i := 2; i < len(polls); i++ {
		if gap := polls[i].Sub(polls[i-1]); gap < 55*time.Millisecond {
			t.Fatalf("poll %d came %s after the previous one; the slowed interval was not kept", i, gap)
		}
	}
}

// A device login dates its session by the client's clock, once: with the
// clock a day ahead, the stored lifetime is still the token's hour.
func TestDeviceLoginSessionFollowsTheClientClock(t *testing.T) {
	e := newTestEnv(t)
	clk := newTestClock()
	clk.Advance(24 * time.Hour)
	auth.SetClientClock(e.client, clk.Now)
	if _, out, err := deviceLogin(t, e, fakeclerk.DeviceOptions{Interval: 1}, func(code string) { e.fake.ApproveDevice(code) }); err != nil {
		t.Fatalf("device login: %v\n%s", err, out)
	}
	s := e.stored(t)
	if life := s.Expiry.Sub(s.ObtainedAt); life < 50*time.Minute || life > time.Hour+time.Minute {
		t.Fatalf("stored lifetime %s (obtained %s, expiry %s), want about the fake's 1h", life, s.ObtainedAt, s.Expiry)
	}
	if d := s.ObtainedAt.Sub(clk.Now()); d < -time.Minute || d > time.Minute {
		t.Fatalf("obtained at %s, want the client's clock (%s)", s.ObtainedAt, clk.Now())
	}
}

func TestDeviceLoginDeniedExpiredAndUnsupported(t *testing.T) {
	e := newTestEnv(t)
	_, _, err := deviceLogin(t, e, fakeclerk.DeviceOptions{Interval: 1}, func(code string) { e.fake.DenyDevice(code) })
	if err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("denied: %v", err)
	}
	_, _, err = deviceLogin(t, e, fakeclerk.DeviceOptions{Interval: 1, ExpiresIn: time.Second}, nil)
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired: %v", err)
	}
	_, _, err = deviceLogin(t, e, fakeclerk.DeviceOptions{Disabled: true}, nil)
	if !errors.Is(err, auth.ErrNoDeviceFlow) {
		t.Fatalf("no device endpoint: %v", err)
	}
	if _, err := e.store.Load(context.Background()); err == nil {
		t.Fatal("a failed device login stored a session")
	}
}

// failFirstPolls answers the first n device_code polls with 503, as Clerk
// might during a blip.
type failFirstPolls struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (f *failFirstPolls) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/oauth/token" && f.n.Add(-1) >= 0 {
		return &http.Response{StatusCode: 503, Header: http.Header{"Content-Type": {"text/html"}},
			Body: io.NopCloser(strings.NewReader("<h1>503</h1>")), Request: r}, nil
	}
	return f.next.RoundTrip(r)
}

// A 503 while polling does not end a device login the user is completing.
func TestDeviceLoginSurvivesTransientErrors(t *testing.T) {
	e := newTestEnv(t)
	rt := &failFirstPolls{next: http.DefaultTransport}
	rt.n.Store(2)
	e.client = auth.NewClient(e.cfg, &http.Client{Transport: rt, Timeout: 10 * time.Second})
	_, out, err := deviceLogin(t, e, fakeclerk.DeviceOptions{Interval: 1}, func(code string) { e.fake.ApproveDevice(code) })
	if err != nil {
		t.Fatalf("device login with two 503 polls: %v\n%s", err, out)
	}
	if rt.n.Load() >= 0 {
		t.Fatal("the 503s were never served")
	}
}
