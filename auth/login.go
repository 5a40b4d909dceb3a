package auth

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
	"github.com/clerk-mcp/clerk-mcp/store"
	"golang.org/x/oauth2"
)

// DefaultLoginTimeout is how long login waits for the browser.
const DefaultLoginTimeout = 2 * time.Minute

// LoginOptions configure Login and LoginDevice.
type LoginOptions struct {
	// NoBrowser only prints the URL.
	NoBrowser bool
	// Timeout bounds the wait for the browser; zero means DefaultLoginTimeout.
	Timeout time.Duration
	// Out receives the URL and progress messages (stderr in the CLI).
	Out io.Writer
	// Live shows the wait as one line counting down, for a terminal.
	Live bool
	// Open opens the authorize URL; nil means the user's browser
	// ($BROWSER or the system opener). The demo passes its own.
	Open func(url string) error
	// Paste, when set, is read line by line for the URL the browser was
	// redirected to, for when the browser cannot reach this machine's
	// loopback callback (a login over SSH): the user copies the failed
	// page's address and pastes it.
	Paste io.Reader

	// pollUnit is how long one second of the device flow's polling
	// interval lasts; tests shorten it.
	pollUnit time.Duration
}

func (o *LoginOptions) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultLoginTimeout
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.pollUnit <= 0 {
		o.pollUnit = time.Second
	}
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
	opts.defaults()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	lb, err := startLoopback(client)
	if err != nil {
		return nil, err
	}
	defer lb.close()
	redirectURL, verifier, state, authURL := lb.redirectURL, lb.verifier, lb.state, lb.authURL
	results, forged := lb.results, &lb.forged

	fmt.Fprintf(opts.Out, "Open this URL in your browser to log in to Clerk:\n\n  %s\n\n", authURL)
	open := opts.Open
	if open == nil {
		open = func(u string) error { return OpenBrowser(client.cfg.Browser, u, opts.Out) }
	}
	if !opts.NoBrowser {
		if err := open(authURL); err != nil {
			fmt.Fprintf(opts.Out, "Could not open a browser (%v); open the URL above by hand.\n", err)
		}
	}
	if opts.Paste != nil {
		fmt.Fprintf(opts.Out, "If the browser runs on another machine, it ends on a page that cannot load (%s?...).\n"+
			"Copy that page's address from the address bar and paste it here, then press Enter.\n\n", redirectURL)
		go readPastedCallback(ctx, opts.Paste, opts.Out, redirectURL, state, results)
	}
	deadline, _ := ctx.Deadline()
	wait := opts.waiter("Waiting for the browser", deadline)
	defer wait.stop()

	var res callbackResult
	select {
	case res = <-results:
		wait.stop()
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			var ignored string
			if n := forged.Load(); n > 0 {
				ignored = fmt.Sprintf(" (%d callback(s) for another login attempt were ignored: a stale tab, or another program on this machine)", n)
			}
			return nil, fmt.Errorf("login timed out after %s waiting for the browser%s", opts.Timeout, ignored)
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
	return finishLogin(ctx, client, st, sess)
}

// loopback is the browser side of one PKCE login: a callback server on
// 127.0.0.1 at a random port, and the state and code verifier it belongs
// to. Login and the logins serve starts for an agent (agentlogin.go) share
// it, so both check the state the same way and keep the verifier in this
// process.
type loopback struct {
	redirectURL string
	verifier    string
	state       string
	authURL     string
	// results receives the callback carrying this login's state (and a
	// pasted one); room for both, so that neither sender blocks.
	results chan callbackResult
	forged  atomic.Int64 // callbacks refused for a wrong state
	// returned is closed when a callback carrying this login's state
	// arrives, before its page is written: the login ends moments later.
	returned     chan struct{}
	returnedOnce sync.Once
	srv          *http.Server
}

// startLoopback listens on 127.0.0.1 and serves the callback until close.
func startLoopback(client *Client) (*loopback, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("login: listen for the browser callback: %w", err)
	}
	lb := &loopback{
		redirectURL: fmt.Sprintf("http://%s/callback", ln.Addr()),
		verifier:    oauth2.GenerateVerifier(),
		state:       randomState(),
		results:     make(chan callbackResult, 2),
		returned:    make(chan struct{}),
	}
	lb.authURL = client.cfg.oauth2Config(lb.redirectURL).AuthCodeURL(lb.state, oauth2.S256ChallengeOption(lb.verifier))
	h := callbackHandler(lb.state, lb.results, &lb.forged)
	lb.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/callback" && stateMatches(r.URL.Query(), lb.state) {
				lb.returnedOnce.Do(func() { close(lb.returned) })
			}
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go lb.srv.Serve(ln)
	return lb, nil
}

// close stops the callback server. It lets the page that ended the login
// reach the browser first, for up to a second; a callback arriving later
// finds the port closed.
func (lb *loopback) close() {
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if lb.srv.Shutdown(sctx) != nil {
		lb.srv.Close()
	}
}

// finishLogin stores a new session, revokes the one it replaced, and
// fetches who logged in.
func finishLogin(ctx context.Context, client *Client, st SessionStore, sess *store.Session) (*LoginResult, error) {
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
		recordUser(st, info)
	}
	return result, nil
}

// userRecorder is a store that lists who each session belongs to
// (store.Store, for `clerk-mcp profiles`).
type userRecorder interface {
	SetUser(user string) error
}

// recordUser notes who logged in, where the store keeps such a list. It
// is best effort: the list only serves listings.
func recordUser(st SessionStore, info *UserInfo) {
	r, ok := st.(userRecorder)
	if !ok {
		return
	}
	user := info.Email
	if user == "" {
		user = info.UserID
	}
	r.SetUser(user)
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

// callbackHandler serves the loopback callback. Only a request carrying
// this login's state ends the login. Any program on this machine can reach
// the port, and a stale tab can replay an old redirect, so a wrong state is
// answered 400, counted in forged, and the wait goes on for the browser.
func callbackHandler(state string, results chan<- callbackResult, forged *atomic.Int64) http.Handler {
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
		if !stateMatches(q, state) {
			forged.Add(1)
			callbackPage(w, http.StatusBadRequest, "Login failed",
				"This response does not belong to the login in progress. If you are logging in, use the newest browser tab.")
			return
		}
		res, status, page := checkCallback(q, state)
		title := "Login failed"
		if res.err == nil {
			title = "Logged in"
		}
		callbackPage(w, status, title, page)
		// The page goes out before the result: once Login has it, it
		// shuts the server down.
		http.NewResponseController(w).Flush()
		send(res)
	})
	// The server serves one request at a time for the state check above.
	return serialize(mux)
}

// checkCallback validates the query the authorization server redirected
// with, whether it arrived at the loopback server or was pasted. It returns
// the result and the page to show in the browser.
//
// Callers check the state first (stateMatches) and ignore a mismatch: only
// the holder of the state may end the login.
func checkCallback(q url.Values, state string) (res callbackResult, status int, page string) {
	switch {
	case !stateMatches(q, state):
		return callbackResult{err: errors.New("login: the browser callback carried the wrong state (a stale tab or a forged request)")},
			http.StatusBadRequest, "The response did not match this login attempt. Run clerk-mcp login again."
	case q.Get("error") != "":
		// error and error_description are whatever the redirect carried:
		// one clean line each before they reach a terminal.
		code := displayCode(q.Get("error"))
		msg := code
		if d := displayDescription(q.Get("error_description")); d != "" {
			msg += ": " + d
		}
		return callbackResult{err: fmt.Errorf("login: Clerk did not authorize clerk-mcp (%s)", msg)},
			http.StatusForbidden, "Clerk said: " + code + ". You can close this window."
	case q.Get("code") == "":
		return callbackResult{err: errors.New("login: the browser callback carried no authorization code")},
			http.StatusBadRequest, "No authorization code was received."
	}
	return callbackResult{code: q.Get("code")}, http.StatusOK, "clerk-mcp is now logged in to Clerk. You can close this window."
}

// stateMatches reports whether q carries this login's state, in constant
// time: the state is the only secret a local process would have to guess.
func stateMatches(q url.Values, state string) bool {
	return subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) == 1
}

// maxDescription bounds how much of an error_description is shown.
const maxDescription = 200

// displayDescription makes an OAuth error_description fit for a message:
// one clean line, bounded.
func displayDescription(d string) string {
	return safetext.Truncate(strings.TrimSpace(safetext.Clean(d)), maxDescription)
}

// readPastedCallback reads lines from in until one is the redirected
// callback URL for this login, and sends its result. Other input gets a
// hint and is ignored; a URL for another address is refused.
func readPastedCallback(ctx context.Context, in io.Reader, out io.Writer, redirectURL, state string, results chan<- callbackResult) {
	want, _ := url.Parse(redirectURL)
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 64<<10)
	for sc.Scan() && ctx.Err() == nil {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		u, err := url.Parse(line)
		if err != nil || u.Path != want.Path || (u.Host != "" && u.Host != want.Host) || u.Query().Get("state") == "" {
			fmt.Fprintf(out, "\nThat is not the address of the page the browser ended on (it starts with %s?code=...). Paste it again.\n", redirectURL)
			continue
		}
		if !stateMatches(u.Query(), state) {
			// An address from an earlier attempt: say so and keep
			// reading, as the loopback callback does.
			fmt.Fprintf(out, "\nThat address belongs to another login attempt. Paste the address from the tab this login opened.\n")
			continue
		}
		res, _, _ := checkCallback(u.Query(), state)
		results <- res
		return
	}
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
