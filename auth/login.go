package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/clerk-mcp/clerk-mcp/store"
	"golang.org/x/oauth2"
)

// DefaultLoginTimeout is how long login waits for the browser.
const DefaultLoginTimeout = 2 * time.Minute

// LoginOptions configure Login.
type LoginOptions struct {
	// NoBrowser only prints the URL.
	NoBrowser bool
	// Timeout bounds the wait for the browser; zero means DefaultLoginTimeout.
	Timeout time.Duration
	// Out receives the URL and progress messages (stderr in the CLI).
	Out io.Writer
}

// LoginResult describes a completed login.
type LoginResult struct {
	User     *UserInfo // nil if userinfo could not be fetched
	Session  *store.Session
	Location string // where the session is stored
	// Warnings are non-fatal problems, such as a failed revocation of the
	// previous session.
	Warnings []string
}

// callbackResult is what the loopback server received.
type callbackResult struct {
	code string
	err  error
}

// Login runs the authorization code flow with PKCE (S256): it serves a
// one-shot callback on 127.0.0.1, sends the user to Clerk, redeems the code,
// stores the session under the lock, then revokes the session it replaced.
func Login(ctx context.Context, client *Client, st SessionStore, opts LoginOptions) (*LoginResult, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultLoginTimeout
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("login: listen for the browser callback: %w", err)
	}
	redirectURL := fmt.Sprintf("http://%s/callback", ln.Addr())
	verifier := oauth2.GenerateVerifier()
	state := randomState()
	authURL := client.cfg.oauth2Config(redirectURL).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	results := make(chan callbackResult, 1)
	srv := &http.Server{
		Handler:           callbackHandler(state, results),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln)
	defer srv.Close()

	fmt.Fprintf(opts.Out, "Open this URL in your browser to log in to Clerk:\n\n  %s\n\n", authURL)
	if !opts.NoBrowser {
		if err := OpenBrowser(client.cfg.Browser, authURL, opts.Out); err != nil {
			fmt.Fprintf(opts.Out, "Could not open a browser (%v); open the URL above by hand.\n", err)
		}
	}
	fmt.Fprintf(opts.Out, "Waiting for the browser (up to %s)...\n", opts.Timeout)

	var res callbackResult
	select {
	case res = <-results:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("login timed out after %s waiting for the browser; run `clerk-mcp login` again (with --no-browser to open the URL yourself)", opts.Timeout)
		}
		return nil, fmt.Errorf("login cancelled: %w", ctx.Err())
	}
	if res.err != nil {
		return nil, res.err
	}

	sess, err := client.Exchange(ctx, res.code, verifier, redirectURL)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	previous, err := replaceSession(ctx, st, sess)
	if err != nil {
		return nil, fmt.Errorf("login: store the session: %w", err)
	}
	result := &LoginResult{Session: sess, Location: st.Location()}
	if previous != nil && previous.RefreshToken != "" && previous.RefreshToken != sess.RefreshToken {
		if err := client.Revoke(ctx, previous.RefreshToken, "refresh_token"); err != nil {
			result.Warnings = append(result.Warnings, fmt.Sprintf("could not revoke the previous session at Clerk: %v", err))
		}
	}
	if info, err := client.UserInfo(ctx, sess.AccessToken); err != nil {
		result.Warnings = append(result.Warnings, fmt.Sprintf("logged in, but could not fetch user info: %v", err))
	} else {
		result.User = info
	}
	return result, nil
}

// replaceSession stores sess under the lock and returns the session it
// replaced, if one could be read.
func replaceSession(ctx context.Context, st SessionStore, sess *store.Session) (*store.Session, error) {
	unlock, err := st.Lock(ctx, DefaultLockWait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	previous, _ := st.Load(ctx)
	if err := st.Save(ctx, sess); err != nil {
		return nil, err
	}
	return previous, nil
}

func callbackHandler(state string, results chan<- callbackResult) http.Handler {
	var sent bool
	send := func(r callbackResult) {
		if !sent {
			sent = true
			results <- r
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("state") != state:
			callbackPage(w, http.StatusBadRequest, "Login failed", "The response did not match this login attempt. Run clerk-mcp login again.")
			send(callbackResult{err: errors.New("login: the browser callback carried the wrong state (a stale tab or a forged request); run `clerk-mcp login` again")})
		case q.Get("error") != "":
			callbackPage(w, http.StatusForbidden, "Login failed", "Clerk said: "+q.Get("error")+". You can close this window.")
			msg := q.Get("error")
			if d := q.Get("error_description"); d != "" {
				msg += ": " + d
			}
			send(callbackResult{err: fmt.Errorf("login: Clerk did not authorize clerk-mcp (%s); run `clerk-mcp login` again to retry", msg)})
		case q.Get("code") == "":
			callbackPage(w, http.StatusBadRequest, "Login failed", "No authorization code was received.")
			send(callbackResult{err: errors.New("login: the browser callback carried no authorization code; run `clerk-mcp login` again")})
		default:
			callbackPage(w, http.StatusOK, "Logged in", "clerk-mcp is now logged in to Clerk. You can close this window.")
			send(callbackResult{code: q.Get("code")})
		}
	})
	// The server serves one request at a time for the state check above.
	return serialize(mux)
}

// serialize runs one request at a time, which keeps callbackHandler's
// one-shot bookkeeping free of races.
func serialize(h http.Handler) http.Handler {
	sem := make(chan struct{}, 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sem <- struct{}{}
		defer func() { <-sem }()
		h.ServeHTTP(w, r)
	})
}

func callbackPage(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>%s</h1><p>%s</p>",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(body))
}

func randomState() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// LogoutResult describes what Logout did.
type LogoutResult struct {
	HadSession bool
	Location   string
	// RevokeErr is set when Clerk could not be told; the local session was
	// deleted anyway.
	RevokeErr error
}

// Logout revokes the stored refresh token at Clerk, then deletes the
// session. A failed revocation does not stop the deletion; a corrupted
// session is deleted too.
func Logout(ctx context.Context, client *Client, st SessionStore) (*LogoutResult, error) {
	unlock, err := st.Lock(ctx, DefaultLockWait)
	if err != nil {
		return nil, fmt.Errorf("logout: %w", err)
	}
	defer unlock()
	res := &LogoutResult{Location: st.Location()}
	sess, err := st.Load(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		var corrupt *store.CorruptError
		if !errors.As(err, &corrupt) {
			return nil, fmt.Errorf("logout: read session: %w", err)
		}
		res.HadSession = true
	default:
		res.HadSession = true
		token, hint := sess.RefreshToken, "refresh_token"
		if token == "" {
			token, hint = sess.AccessToken, "access_token"
		}
		res.RevokeErr = client.Revoke(ctx, token, hint)
	}
	if err := st.Delete(ctx); err != nil {
		return nil, fmt.Errorf("logout: %w", err)
	}
	return res, nil
}
