package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Defaults for AgentLoginOptions.
const (
	// DefaultAgentLoginTTL is how long a login started for an agent waits
	// for the user before its listener closes.
	DefaultAgentLoginTTL = 10 * time.Minute
	// DefaultAgentLoginWatch is how often a pending login looks at the
	// store's version for a session stored by someone else. It costs a
	// stat of the marker file.
	DefaultAgentLoginWatch = 500 * time.Millisecond
	// agentLoginFinish bounds the code exchange and the store write once
	// the browser came back.
	agentLoginFinish = 30 * time.Second
)

// Errors a PendingLogin ends with, besides the login's own failure.
var (
	// ErrLoginExpired: nobody completed the login in time.
	ErrLoginExpired = errors.New("the login link expired before anyone used it")
	// ErrLoginAbandoned: the user declined to log in, or the process is
	// shutting down.
	ErrLoginAbandoned = errors.New("the login was abandoned")
)

// AgentLoginOptions tune AgentLogin; zero values take the defaults.
type AgentLoginOptions struct {
	TTL    time.Duration
	Watch  time.Duration
	Logger *slog.Logger
}

// AgentLogin starts the browser login on behalf of an agent, for a server
// whose tool call found no usable session: the same authorization code +
// PKCE login as Login, with the same loopback callback and state check,
// but it never opens a browser (a server in the background must not pop
// windows that an agent loop can multiply). Its URL goes to the user
// through the agent instead.
//
// There is at most one pending login per AgentLogin: later callers join
// it. It ends when its callback stores a session, when a session appears
// in the store from anywhere else (a terminal `clerk-mcp login`, another
// server), when it expires, or when it is abandoned; then its listener
// closes and a late callback reaches nothing.
type AgentLogin struct {
	client *Client
	store  SessionStore
	opts   AgentLoginOptions
	log    *slog.Logger

	mu      sync.Mutex
	pending *PendingLogin
	// last is the login that ended last, and when.
	last    *PendingLogin
	lastEnd time.Time
	closed  bool
	runs    sync.WaitGroup
}

// NewAgentLogin returns an AgentLogin that stores sessions in st.
func NewAgentLogin(client *Client, st SessionStore, opts AgentLoginOptions) *AgentLogin {
	if opts.TTL <= 0 {
		opts.TTL = DefaultAgentLoginTTL
	}
	if opts.Watch <= 0 {
		opts.Watch = DefaultAgentLoginWatch
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &AgentLogin{client: client, store: st, opts: opts, log: log}
}

// PendingLogin is a login waiting for the user to open its URL.
type PendingLogin struct {
	// ID names this login to the MCP client (an elicitation id). It is
	// random and unrelated to the OAuth state, which never leaves the
	// process.
	ID string
	// URL is the authorize URL the user opens.
	URL string
	// ExpiresAt is when the listener closes if nobody logs in.
	ExpiresAt time.Time

	cancel   context.CancelCauseFunc
	returned <-chan struct{}
	done     chan struct{}
	err      error // set before done is closed
}

// Returned is closed when the user's browser has come back with this
// login's state: the login ends within moments (the code is being
// redeemed), so waiting for Done is short.
func (p *PendingLogin) Returned() <-chan struct{} { return p.returned }

// Done is closed when the login has ended; Err then says how.
func (p *PendingLogin) Done() <-chan struct{} { return p.done }

// Err is nil when a session was stored, by this login or by anyone else
// meanwhile; otherwise it says why the login ended: ErrLoginExpired,
// ErrLoginAbandoned or the login's failure (the user refused consent at
// Clerk, the code exchange failed). It is valid once Done is closed.
func (p *PendingLogin) Err() error {
	<-p.done
	return p.err
}

// Abandon ends the login without a session, because the user declined
// it: its listener closes, so that the link no longer logs anyone in.
func (p *PendingLogin) Abandon() { p.cancel(ErrLoginAbandoned) }

// Start returns the pending login, starting one if there is none. If a
// login ended with a session after since (when the caller found none), it
// returns that one, already done: the caller's session is there now. It
// fails only when no callback listener can be opened, or after Close.
func (a *AgentLogin) Start(since time.Time) (*PendingLogin, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, ErrLoginAbandoned
	}
	if p := a.pending; p != nil {
		return p, nil
	}
	if p := a.last; p != nil && p.err == nil && a.lastEnd.After(since) {
		return p, nil
	}
	lb, err := startLoopback(a.client)
	if err != nil {
		return nil, err
	}
	expires := time.Now().Add(a.opts.TTL)
	ctx, cancel := context.WithCancelCause(context.Background())
	p := &PendingLogin{ID: "login-" + randomID(), URL: lb.authURL, ExpiresAt: expires,
		cancel: cancel, returned: lb.returned, done: make(chan struct{})}
	a.pending = p
	a.runs.Add(1)
	go func() {
		defer a.runs.Done()
		a.run(ctx, p, lb)
	}()
	a.log.Info("agent login: started; waiting for the user to open the login link",
		"id", p.ID, "callback", lb.redirectURL, "expires_at", expires.Format(time.RFC3339))
	return p, nil
}

// Close abandons the pending login and waits, for up to the bound of a
// code exchange, until its listener is closed and anything its callback
// started is stored.
func (a *AgentLogin) Close() {
	a.mu.Lock()
	a.closed = true
	p := a.pending
	a.mu.Unlock()
	if p != nil {
		p.Abandon()
	}
	done := make(chan struct{})
	go func() {
		a.runs.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(agentLoginFinish):
	}
}

// run waits for the browser, a session from elsewhere, expiry or
// abandonment, then ends p.
func (a *AgentLogin) run(ctx context.Context, p *PendingLogin, lb *loopback) {
	err := a.wait(ctx, p, lb)
	lb.close()
	a.mu.Lock()
	if a.pending == p {
		a.pending = nil
	}
	a.last, a.lastEnd = p, time.Now()
	p.err = err
	close(p.done)
	a.mu.Unlock()
	p.cancel(nil)
	switch {
	case err == nil:
		a.log.Info("agent login: ended with a session", "id", p.ID)
	case lb.forged.Load() > 0:
		a.log.Info("agent login: ended without a session", "id", p.ID, "why", err,
			"ignored_callbacks", lb.forged.Load())
	default:
		a.log.Info("agent login: ended without a session", "id", p.ID, "why", err)
	}
}

func (a *AgentLogin) wait(ctx context.Context, p *PendingLogin, lb *loopback) error {
	expiry := time.NewTimer(time.Until(p.ExpiresAt))
	defer expiry.Stop()
	watch := time.NewTicker(a.opts.Watch)
	defer watch.Stop()
	since := a.store.Version()
	for {
		select {
		case res := <-lb.results:
			if res.err != nil {
				return res.err
			}
			return a.finish(ctx, res.code, lb)
		case <-watch.C:
			// Another process stored a session (refresh rule 9): this
			// login is no longer needed. A logout changes the version
			// too, and leaves nothing to load.
			if v := a.store.Version(); !v.Equal(since) {
				since = v
				if _, err := a.store.Load(ctx); err == nil {
					a.log.Debug("agent login: a session appeared in the store", "id", p.ID)
					return nil
				}
			}
		case <-expiry.C:
			return ErrLoginExpired
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// finish redeems the code and stores the session. It runs detached from
// abandonment: once Clerk has issued the tokens, dropping them on the
// floor would only leave a grant behind that nothing can revoke.
func (a *AgentLogin) finish(ctx context.Context, code string, lb *loopback) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), agentLoginFinish)
	defer cancel()
	sess, err := a.client.Exchange(fctx, code, lb.verifier, lb.redirectURL)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	res, err := finishLogin(fctx, a.client, a.store, sess)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		a.log.Warn("agent login: " + w)
	}
	return nil
}

// randomID is an unguessable identifier for the outside world.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
