package auth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
	"github.com/clerk-mcp/clerk-mcp/internal/syncbuf"
)

// hostileClerk serves fixed JSON answers per path.
func hostileClerk(t *testing.T, answers map[string]func(base string) (int, string)) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer, ok := answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		status, body := answer(srv.URL)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func fixed(status int, body string) func(string) (int, string) {
	return func(string) (int, string) { return status, body }
}

// Names and emails go to terminals and tool results: a hostile userinfo
// cannot recolour, clear or retitle the user's terminal through them.
func TestUserInfoIsCleaned(t *testing.T) {
	clerk := hostileClerk(t, map[string]func(string) (int, string){
		"/oauth/userinfo": fixed(200, `{"sub":"user_1\r\u001b[2K","email":"ada@example.com\u202egro.live",`+
			`"given_name":"\u001b[31mAda\u001b[0m","family_name":"Love\nlace\u001b]0;owned\u0007"}`),
	})
	u, err := auth.NewClient(redirectConfig(t, clerk.URL), nil).UserInfo(context.Background(), "at")
	if err != nil {
		t.Fatal(err)
	}
	want := auth.UserInfo{UserID: "user_1 [2K", Email: "ada@example.comgro.live", Name: "[31mAda[0m Love lace]0;owned"}
	if *u != want {
		t.Fatalf("userinfo = %q, want %q", *u, want)
	}
}

// The device flow prints the server's code and addresses; a hostile server
// cannot put escape sequences on the user's terminal through them, and its
// error code ends the login with a clean one-line message.
func TestDeviceLoginOutputIsCleaned(t *testing.T) {
	clerk := hostileClerk(t, map[string]func(string) (int, string){
		"/.well-known/oauth-authorization-server": func(base string) (int, string) {
			return 200, fmt.Sprintf(`{"issuer":%q,"token_endpoint":%q,"device_authorization_endpoint":%q}`, base, base+"/oauth/token", base+"/oauth/device_authorization")
		},
		"/oauth/device_authorization": fixed(200, `{"device_code":"dc","user_code":"WDJB\u001b[2J-MJHT\r\nPAID","verification_uri":"https://clerk.example/device\u001b]8;;https://evil.example\u0007",`+
			`"verification_uri_complete":"https://clerk.example/device?c=1\u202e","expires_in":600,"interval":1}`),
		"/oauth/token": fixed(400, `{"error":"server\u001b[31m_says\nno","error_description":"x"}`),
	})
	cfg := redirectConfig(t, clerk.URL)
	var out syncbuf.Buffer
	opts := auth.LoginOptions{Timeout: 10 * time.Second, Out: &out}
	auth.SetPollUnit(&opts, time.Millisecond)
	_, err := auth.LoginDevice(context.Background(), auth.NewClient(cfg, nil), openStore(t, cfg), opts)
	printed := out.String()
	if strings.ContainsAny(printed, "\x1b\x07\r\u202e") {
		t.Fatalf("device login printed control characters:\n%q", printed)
	}
	for _, want := range []string{"WDJB[2J-MJHT PAID", "https://clerk.example/device]8;;https://evil.example", "https://clerk.example/device?c=1\n"} {
		if !strings.Contains(printed, want) {
			t.Fatalf("device login output lacks %q:\n%q", want, printed)
		}
	}
	if err == nil || safetext.Clean(err.Error()) != err.Error() || !strings.Contains(err.Error(), "server[31m_says no") {
		t.Fatalf("device login error = %q, want a clean one-line message with the code", err)
	}
}

// error and error_description from the token endpoint never reach a
// message with their control characters, on a refresh or a code exchange.
func TestTokenErrorIsCleaned(t *testing.T) {
	clerk := hostileClerk(t, map[string]func(string) (int, string){
		"/oauth/token": fixed(400, `{"error":"invalid_\u001b[31mclient\r\n\u001b[0mclerk-mcp: all good","error_description":"line1\nline2\u001b[2J"}`),
	})
	client := auth.NewClient(redirectConfig(t, clerk.URL), nil)
	_, rerr := client.Refresh(context.Background(), "rt")
	_, xerr := client.Exchange(context.Background(), "code", "verifier", "http://127.0.0.1:1/callback")
	for _, err := range []error{rerr, xerr} {
		if err == nil {
			t.Fatal("a 400 from the token endpoint succeeded")
		}
		msg := err.Error()
		if safetext.Clean(msg) != msg || strings.Contains(msg, "line2") {
			t.Fatalf("token error message %q carries control characters or the description", msg)
		}
		if !strings.Contains(msg, "invalid_[31mclient [0mclerk-mcp: all good") {
			t.Fatalf("token error message %q lost the code", msg)
		}
	}
}
