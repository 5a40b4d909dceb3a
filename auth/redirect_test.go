package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/syncbuf"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// attacker is a second loopback listener that a hostile or misconfigured
// "Clerk" redirects to: same host, another port, which is exactly where
// Go's http.Client would forward Authorization. It records whatever
// reaches it.
type attacker struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newAttacker(t *testing.T) *attacker {
	a := &attacker{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.seen = append(a.seen, fmt.Sprintf("%s %s Authorization=%q body=%q", r.Method, r.URL, r.Header.Get("Authorization"), body))
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"evil","refresh_token":"evil","expires_in":3600,"sub":"user_evil"}`)
	}))
	t.Cleanup(a.Close)
	return a
}

// mustBeUntouched fails the test if anything reached the attacker.
func (a *attacker) mustBeUntouched(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.seen) > 0 {
		t.Fatalf("the redirect target received %d request(s):\n%s", len(a.seen), strings.Join(a.seen, "\n"))
	}
}

// redirectingClerk answers every path in redirect with a redirect of the
// given status to the same path at target, and serves the rest with next
// (404 when nil).
func redirectingClerk(t *testing.T, target string, status int, redirect []string, next http.Handler) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range redirect {
			if r.URL.Path == p {
				http.Redirect(w, r, target+r.URL.RequestURI(), status)
				return
			}
		}
		if next == nil {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func redirectConfig(t *testing.T, base string) auth.Config {
	return auth.Config{BaseURL: base, ClientID: "client", ConfigDir: t.TempDir(), StoreMode: store.ModeFile}
}

// A 307 from the token endpoint would re-POST the refresh token to the
// redirect target. It must not be followed; the refresh fails retryably,
// names the target, and the session is kept.
func TestRefreshRedirectIsNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			evil := newAttacker(t)
			clerk := redirectingClerk(t, evil.URL, status, []string{"/oauth/token"}, nil)
			cfg := redirectConfig(t, clerk.URL)
			st := openStore(t, cfg)
			sess := &store.Session{AccessToken: "at_secret", RefreshToken: "rt_secret", TokenType: "Bearer",
				Expiry: time.Now().Add(-time.Minute), ObtainedAt: time.Now().Add(-time.Hour), Issuer: cfg.BaseURL, ClientID: cfg.ClientID}
			if err := st.Save(context.Background(), sess); err != nil {
				t.Fatal(err)
			}
			src := auth.NewSource(st, auth.NewClient(cfg, nil), auth.SourceOptions{})

			_, err := src.Token(context.Background())
			evil.mustBeUntouched(t)
			ae := wantReason(t, err, envelope.ReasonRefreshFailed, true)
			if !errors.Is(err, auth.ErrRedirect) || !strings.Contains(ae.Message, evil.URL+"/oauth/token") {
				t.Fatalf("error does not name the redirect: %v", err)
			}
			got, err := st.Load(context.Background())
			if err != nil || got.RefreshToken != "rt_secret" {
				t.Fatalf("session after a redirected refresh: %+v, %v; want it kept", got, err)
			}
		})
	}
}

// userinfo carries the access token in Authorization; revocation carries
// the refresh token in its body. Neither goes to a redirect target, even
// with a caller-supplied http.Client that would follow redirects.
func TestCredentialCallsDoNotFollowRedirects(t *testing.T) {
	evil := newAttacker(t)
	clerk := redirectingClerk(t, evil.URL, http.StatusFound,
		[]string{"/oauth/userinfo", "/oauth/token/revoke", "/.well-known/oauth-authorization-server"}, nil)
	cfg := redirectConfig(t, clerk.URL)
	var followed int
	caller := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		followed++
		return nil
	}}
	client := auth.NewClient(cfg, caller)
	ctx := context.Background()

	_, err := client.UserInfo(ctx, "at_secret")
	evil.mustBeUntouched(t)
	if !errors.Is(err, auth.ErrRedirect) {
		t.Errorf("userinfo: err = %v, want ErrRedirect", err)
	}
	if err := client.Revoke(ctx, "rt_secret", "refresh_token"); !errors.Is(err, auth.ErrRedirect) {
		t.Errorf("revoke: err = %v, want ErrRedirect", err)
	}
	if _, err := client.Metadata(ctx); !errors.Is(err, auth.ErrRedirect) {
		t.Errorf("metadata: err = %v, want ErrRedirect", err)
	}
	ae := envelope.From(fmt.Errorf("whoami: %w", func() error { _, err := client.UserInfo(ctx, "at_secret"); return err }()))
	if ae.Reason != envelope.ReasonNetworkError || !ae.Retryable || !strings.Contains(ae.Message, evil.URL) || strings.Contains(ae.Message, "Could not reach") {
		t.Errorf("envelope.From for a redirect = %+v", ae)
	}
	evil.mustBeUntouched(t)
	if followed != 0 || caller.CheckRedirect == nil {
		t.Errorf("the caller's CheckRedirect ran %d times or was replaced", followed)
	}
	if client.HTTPClient() == caller || client.HTTPClient().CheckRedirect == nil {
		t.Error("HTTPClient is the caller's client, not a guarded copy")
	}
}

// The device flow sends the client id and then the device code; a
// redirect at either step ends the login at once and reaches no one.
func TestDeviceLoginDoesNotFollowRedirects(t *testing.T) {
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/oauth/device_authorization", "/oauth/token"} {
		t.Run(path, func(t *testing.T) {
			evil := newAttacker(t)
			var base string
			clerk := redirectingClerk(t, evil.URL, http.StatusTemporaryRedirect, []string{path}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Path {
				case "/.well-known/oauth-authorization-server":
					fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q,"device_authorization_endpoint":%q}`, base, base+"/oauth/token", base+"/oauth/device_authorization")
				case "/oauth/device_authorization":
					io.WriteString(w, `{"device_code":"dc_secret","user_code":"ABCD-EFGH","verification_uri":"https://example.test/device","expires_in":600,"interval":1}`)
				default:
					http.NotFound(w, r)
				}
			}))
			base = clerk.URL
			cfg := redirectConfig(t, clerk.URL)
			var out syncbuf.Buffer
			opts := auth.LoginOptions{Timeout: 10 * time.Second, Out: &out}
			auth.SetPollUnit(&opts, time.Millisecond)
			start := time.Now()
			_, err := auth.LoginDevice(context.Background(), auth.NewClient(cfg, nil), openStore(t, cfg), opts)
			evil.mustBeUntouched(t)
			if !errors.Is(err, auth.ErrRedirect) && !strings.Contains(fmt.Sprint(err), "redirect") {
				t.Fatalf("device login: err = %v, want a redirect error\n%s", err, out.String())
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("a redirect took %s to end the login; it should end it at once", d)
			}
			evil.mustBeUntouched(t)
		})
	}
}

// An https base that redirects to plain http must not downgrade: the copy
// keeps the caller's transport (here, one trusting the test certificate)
// and only refuses the redirect.
func TestNoRedirectClientRefusesDowngrade(t *testing.T) {
	evil := newAttacker(t)
	tlsClerk := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+r.URL.Path, http.StatusPermanentRedirect)
	}))
	defer tlsClerk.Close()
	hc := auth.NoRedirectClient(tlsClerk.Client())
	req, _ := http.NewRequest(http.MethodPost, tlsClerk.URL+"/v1/instance", strings.NewReader("secret=1"))
	req.Header.Set("Authorization", "Bearer sk_test_secret")
	resp, err := hc.Do(req)
	if resp != nil {
		resp.Body.Close()
	}
	var re *auth.RedirectError
	if !errors.As(err, &re) || re.Status != http.StatusPermanentRedirect || re.Location != evil.URL+"/v1/instance" {
		t.Fatalf("err = %v, want a RedirectError naming the target", err)
	}
	evil.mustBeUntouched(t)
	if tlsClerk.Client().CheckRedirect != nil {
		t.Fatal("NoRedirectClient modified the client it was given")
	}
	if nc := auth.NoRedirectClient(nil); nc.Timeout != auth.DefaultHTTPTimeout || nc.CheckRedirect == nil {
		t.Fatalf("NoRedirectClient(nil) = %+v", nc)
	}
}
