package spectest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/spectest"
)

// noRedirect keeps the authorize step's 302 for the test to read.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func call(t *testing.T, req *http.Request) (int, []byte, http.Header) {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header
}

func form(t *testing.T, fake *fakeclerk.Server, path string, v url.Values) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", fake.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body, _ := call(t, req)
	return status, body
}

func get(t *testing.T, fake *fakeclerk.Server, path, bearer string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", fake.URL+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	status, _, _ := call(t, req)
	return status
}

// Every route of the fake, driven the way clerk-mcp drives it, answers
// what Clerk's specs say: the checker (which fails the test at its end on
// any violation) sees each exchange.
func TestEveryFakeRouteFollowsTheSpecs(t *testing.T) {
	fake := fakeclerk.New(t)
	// Clerk's own metadata: without the device endpoint the fake adds for
	// `login --device` (an RFC 8628 issuer Clerk is not).
	fake.SetDeviceOptions(fakeclerk.DeviceOptions{Disabled: true})
	checker := spectest.Attach(t, fake)

	if s := get(t, fake, "/.well-known/oauth-authorization-server", ""); s != 200 {
		t.Fatalf("metadata: %d", s)
	}
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://127.0.0.1:9/callback"
	q := url.Values{"response_type": {"code"}, "client_id": {fakeclerk.ClientID}, "redirect_uri": {redirect},
		"state": {"state-0123456789"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	req, _ := http.NewRequest("GET", fake.URL+"/oauth/authorize?"+q.Encode(), nil)
	status, _, hdr := call(t, req)
	if status != http.StatusFound {
		t.Fatalf("authorize: %d", status)
	}
	loc, _ := url.Parse(hdr.Get("Location"))
	status, body := form(t, fake, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {fakeclerk.ClientID},
		"code": {loc.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}})
	var tok fakeclerk.TokenResponse
	if status != 200 || json.Unmarshal(body, &tok) != nil {
		t.Fatalf("exchange: %d %s", status, body)
	}
	status, body = form(t, fake, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {fakeclerk.ClientID},
		"refresh_token": {tok.RefreshToken}})
	var next fakeclerk.TokenResponse
	if status != 200 || json.Unmarshal(body, &next) != nil {
		t.Fatalf("refresh: %d %s", status, body)
	}
	// Reuse of a rotated refresh token: Clerk's invalid_grant.
	if status, _ = form(t, fake, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {fakeclerk.ClientID},
		"refresh_token": {tok.RefreshToken}}); status != 400 {
		t.Fatalf("reuse: %d", status)
	}
	if s := get(t, fake, "/oauth/userinfo", next.AccessToken); s != 200 {
		t.Fatalf("userinfo: %d", s)
	}
	for _, path := range []string{"/v1/platform/applications", "/v1/platform/applications?include_secret_keys=true",
		"/v1/platform/applications/" + fake.ApplicationID(), "/v1/platform/applications/" + fake.ApplicationID() + "?include_secret_keys=true"} {
		if s := get(t, fake, path, next.AccessToken); s != 200 {
			t.Fatalf("%s: %d", path, s)
		}
	}
	if s := get(t, fake, "/v1/users?limit=10", fake.SecretKey("development")); s != 200 {
		t.Fatalf("users: %d", s)
	}
	if s := get(t, fake, "/v1/users", "sk_test_wrong"); s != 401 {
		t.Fatalf("users with a wrong key: %d", s)
	}
	if status, _ = form(t, fake, "/oauth/token/revoke", url.Values{"token": {next.RefreshToken}, "client_id": {fakeclerk.ClientID}}); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	if s := get(t, fake, "/oauth/userinfo", next.AccessToken); s != 401 {
		t.Fatalf("userinfo after revocation: %d", s)
	}
	if n := checker.Checked(); n < 14 {
		t.Fatalf("the checker saw %d exchanges, want every one of the 14 above", n)
	}
}

// The checker is what stops an invented shape: the secret_keys list that
// clerk-mcp once read, and that the real Platform API never sent, fails.
func TestCheckerRefusesAnInventedField(t *testing.T) {
	var problems []string
	rec := &recordingTB{TB: t, errorf: func(s string) { problems = append(problems, s) }}
	c := spectest.New(rec)
	invented := c.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"application_id":"app_1","name":"A","instances":[{"instance_id":"ins_1","environment_type":"development",`+
			`"secret_keys":[{"object":"secret_key","secret":"sk_test_x"}]}]}`)
	}))
	srv := httptest.NewServer(invented)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/platform/applications/app_1?include_secret_keys=true")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := c.Problems()
	if len(got) == 0 {
		t.Fatal("an answer with an invented field passed the spec check")
	}
	if !strings.Contains(strings.Join(got, "\n"), "PlatformGetApplication") {
		t.Fatalf("problems %q do not name the operation", got)
	}
	// Undocumented routes the fake serves are problems too, unless listed
	// with a reason (a 404 for an unknown path is what Clerk answers).
	served := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })
	srv2 := httptest.NewServer(c.Wrap(served))
	defer srv2.Close()
	if resp, err := http.Get(srv2.URL + "/v1/made_up_route"); err == nil {
		resp.Body.Close()
	}
	if !strings.Contains(strings.Join(c.Problems(), "\n"), "made_up_route") {
		t.Fatal("an undocumented route was not reported")
	}
}

// recordingTB keeps the checker's end-of-test errors from failing this
// test, which expects them.
type recordingTB struct {
	testing.TB
	errorf func(string)
}

func (r *recordingTB) Errorf(format string, args ...any) {}
func (r *recordingTB) Cleanup(f func())                  {}
