package auth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzTokenResponse feeds arbitrary token endpoint answers to a refresh.
// Whatever Clerk says, the result is a usable session or an *envelope.Error with
// a refresh reason; the error never carries the body or a control
// character; the expiry is never in the past (that would refresh on every
// call).
func FuzzTokenResponse(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt2"}`))
	f.Add(200, "application/json", []byte(`{"access_token":"at","expires_in":-30}`))
	f.Add(200, "application/json", []byte(`{"access_token":"at","expires_in":"3600"}`))
	f.Add(200, "application/x-www-form-urlencoded", []byte(`access_token=at&expires_in=60`))
	f.Add(200, "text/html", []byte(`<html>hello</html>`))
	f.Add(400, "application/json", []byte(`{"error":"invalid_grant","error_description":"spent"}`))
	f.Add(401, "application/json", []byte(`{"error":"invalid_client"}`))
	f.Add(502, "text/html", []byte("<h1>Bad Gateway</h1>\nsecret"))
	f.Add(200, "application/json", []byte(`{"access_token":"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjEsImlhdCI6Mn0.x"}`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}},
				Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
		})}
		client := auth.NewClient(auth.Config{BaseURL: "http://127.0.0.1:1", ClientID: "c"}, hc)
		sess, err := client.Refresh(context.Background(), "rt_old")
		if err != nil {
			var ae *envelope.Error
			if !errors.As(err, &ae) || (ae.Reason != envelope.ReasonRefreshFailed && ae.Reason != envelope.ReasonSessionExpired) {
				t.Fatalf("error %v (%T) is not a refresh *envelope.Error", err, err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || len(msg) > 400 {
				t.Fatalf("error carries the body: %q", msg)
			}
			// Error codes are the server's words: none of its control
			// characters may reach a terminal (testdata holds the
			// `{"error":"invalid_cli\nt"}` crasher).
			if msg := err.Error(); safetext.Clean(msg) != msg {
				t.Fatalf("error carries control characters: %q", msg)
			}
			return
		}
		if sess.AccessToken == "" || sess.RefreshToken == "" {
			t.Fatalf("session without tokens: %+v", sess)
		}
		if !sess.Expiry.IsZero() && !sess.Expiry.After(sess.ObtainedAt) {
			t.Fatalf("session expires %s, before it was obtained %s", sess.Expiry, sess.ObtainedAt)
		}
	})
}
