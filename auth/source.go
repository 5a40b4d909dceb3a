package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/store"
	"golang.org/x/sync/singleflight"
)

// Defaults for SourceOptions.
const (
	DefaultLockWait       = 10 * time.Second
	DefaultRefreshTimeout = 30 * time.Second
	DefaultRecheck        = time.Second
	maxLeeway             = time.Minute
)

// Token is an access token ready to use.
type Token struct {
	AccessToken string
	TokenType   string
	Expiry      time.Time // zero when unknown
	// LoginID identifies the login the token comes from: it survives
	// refreshes and changes with every login, logout or account change.
	LoginID string
}

// SessionStore is what Source needs from the session store.
type SessionStore interface {
	Load(ctx context.Context) (*store.Session, error)
	Save(ctx context.Context, s *store.Session) error
	Delete(ctx context.Context) error
	Lock(ctx context.Context, wait time.Duration) (unlock func(), err error)
	Version() store.Version
	Location() string
}

// SourceOptions tune a Source; zero values take the defaults.
type SourceOptions struct {
	// LockWait bounds the wait for the cross-process lock.
	LockWait time.Duration
	// RefreshTimeout bounds one shared refresh, which runs detached from any
	// one caller's cancellation.
	RefreshTimeout time.Duration
	// Recheck is how often a cached session is checked against the store's
	// version, to notice a login or logout done by another process.
	Recheck time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives debug events about refreshes; nil discards them.
	Logger *slog.Logger
}

// Source hands out valid access tokens for the stored session, refreshing
// it when needed under the refresh rules of docs/design.md: one refresh in
// flight per process, a cross-process lock around re-read, refresh and
// persist, no refresh when another process already did it,
// compare-and-delete on invalid_grant.
//
// Source is safe for concurrent use. The hot path (a cached, valid token)
// touches neither the keyring nor the disk.
type Source struct {
	store  SessionStore
	client *Client
	opts   SourceOptions
	log    *slog.Logger
	epoch  time.Time

	group   singleflight.Group
	current atomic.Pointer[cached]
	saveMu  sync.Mutex // serializes retries of a failed persist
	// flights is held for reading by every caller of a shared refresh,
	// from before the flight starts until it ends (the new session is
	// persisted or the refresh failed), so that WaitRefreshes can wait for
	// them all.
	flights sync.RWMutex
}

// cached is an immutable view of the session in use, plus when it was last
// checked against the store.
type cached struct {
	session   *store.Session
	token     Token
	refreshAt time.Time     // zero: never refresh for expiry
	version   store.Version // the store's version when session was read
	checked   atomic.Int64  // Source.since of the last version check
	// unsaved is why persisting this session failed, nil once it is
	// stored; replaced is the refresh token it rotated out, to recognize
	// the stale stored copy.
	unsaved  error
	replaced string
}

// NewSource returns a Source over st that refreshes through client.
func NewSource(st SessionStore, client *Client, opts SourceOptions) *Source {
	if opts.LockWait <= 0 {
		opts.LockWait = DefaultLockWait
	}
	if opts.RefreshTimeout <= 0 {
		opts.RefreshTimeout = DefaultRefreshTimeout
	}
	if opts.Recheck <= 0 {
		opts.Recheck = DefaultRecheck
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Source{store: st, client: client, opts: opts, log: log, epoch: time.Now()}
}

// Store returns the session store the source reads.
func (s *Source) Store() SessionStore { return s.store }

// Client returns the OAuth client the source refreshes with.
func (s *Source) Client() *Client { return s.client }

// since is a monotonic clock reading for recheck bookkeeping.
func (s *Source) since() int64 { return int64(time.Since(s.epoch)) }

// Token returns a valid access token, refreshing the session if it is within
// the leeway of expiry. Errors are *envelope.Error (or the context's error).
func (s *Source) Token(ctx context.Context) (Token, error) {
	if c := s.current.Load(); c != nil &&
		s.since()-c.checked.Load() < int64(s.opts.Recheck) &&
		(c.refreshAt.IsZero() || s.opts.Now().Before(c.refreshAt)) {
		return c.token, nil
	}
	tok, err := s.slowToken(ctx)
	return tok, s.locate(err)
}

func (s *Source) slowToken(ctx context.Context) (Token, error) {
	c := s.current.Load()
	if c != nil && c.unsaved != nil && s.since()-c.checked.Load() >= int64(s.opts.Recheck) {
		c = s.retryPersist(ctx, c)
	}
	if c != nil && s.store.Version().Equal(c.version) {
		c.checked.Store(s.since())
		if c.refreshAt.IsZero() || s.opts.Now().Before(c.refreshAt) {
			return c.token, nil
		}
		return s.refresh(ctx, c.token.AccessToken, "expiry")
	}
	// First use, or another process saved or deleted a session.
	version := s.store.Version()
	sess, err := s.store.Load(ctx)
	if err != nil {
		return Token{}, s.loadFailed(ctx, err)
	}
	c = s.use(sess, version, nil, "")
	if c.refreshAt.IsZero() || s.opts.Now().Before(c.refreshAt) {
		return c.token, nil
	}
	return s.refresh(ctx, c.token.AccessToken, "expiry")
}

// loadFailed maps a store error and forgets the cached session when the
// store says there is none.
func (s *Source) loadFailed(ctx context.Context, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		s.current.Store(nil)
		return errNotLoggedIn()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errStore(err)
}

// Refresh forces a refresh because stale, the access token the caller
// holds, was refused, unless the store already holds a different token that
// has not expired (refresh rules 3 and 5). An empty stale forces a refresh
// of whatever is stored.
func (s *Source) Refresh(ctx context.Context, stale string) (Token, error) {
	tok, err := s.refresh(ctx, stale, "forced")
	return tok, s.locate(err)
}

func (s *Source) refresh(ctx context.Context, stale, why string) (Token, error) {
	for attempt := 0; ; attempt++ {
		// Held by each caller, before the flight can start and until it
		// ends, for WaitRefreshes.
		s.flights.RLock()
		ch := s.group.DoChan("refresh", func() (any, error) {
			// Detached: a caller that gives up must not abandon a rotation
			// half-way and lose the new refresh token.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.RefreshTimeout)
			defer cancel()
			return s.lockedRefresh(rctx, stale, why)
		})
		var res singleflight.Result
		select {
		case res = <-ch:
			s.flights.RUnlock()
		case <-ctx.Done():
			// The flight goes on without us; WaitRefreshes must still
			// see it until it ends.
			go func() {
				<-ch
				s.flights.RUnlock()
			}()
			return Token{}, ctx.Err()
		}
		if res.Err != nil {
			return Token{}, res.Err
		}
		tok := res.Val.(Token)
		// A caller that joined a flight started for another token may get
		// back the very token it reported as refused; refresh once more.
		if why == "forced" && stale != "" && tok.AccessToken == stale && attempt == 0 {
			continue
		}
		return tok, nil
	}
}

// lockedRefresh is refresh rules 2-6: lock, re-read, refresh only if still
// needed, persist, then publish.
func (s *Source) lockedRefresh(ctx context.Context, stale, why string) (Token, error) {
	start := time.Now()
	unlock, tok, err := s.lock(ctx, stale)
	if err == nil && unlock == nil {
		s.log.Debug("refresh: another process refreshed while we waited for the lock", "why", why, "lock_wait", time.Since(start))
		return tok, nil
	}
	if err != nil {
		s.log.Debug("refresh: lock not acquired", "why", why, "lock_wait", time.Since(start), "error", err)
		if errors.Is(err, store.ErrLockTimeout) {
			return Token{}, errRefreshFailed("Another clerk-mcp process is refreshing the Clerk session and did not finish in time.", err)
		}
		return Token{}, errStore(err)
	}
	defer unlock()
	lockWait := time.Since(start)

	version := s.store.Version()
	sess, err := s.store.Load(ctx)
	if err != nil {
		return Token{}, s.loadFailed(ctx, err)
	}
	storedRefresh := sess.RefreshToken
	if c := s.current.Load(); c != nil && c.unsaved != nil && sess.RefreshToken == c.replaced {
		// The store still holds the session our unsaved one replaced; its
		// refresh token is spent. Refresh from the one in memory.
		sess = c.session
	}
	now := s.opts.Now()
	if sess.AccessToken != stale && !expired(sess, now) {
		s.log.Debug("refresh: store already held a newer session", "why", why, "lock_wait", lockWait)
		return s.use(sess, version, nil, "").token, nil
	}
	if sess.RefreshToken == "" {
		return Token{}, errSessionExpired(" and cannot be refreshed (no refresh token)", nil)
	}
	t0 := time.Now()
	fresh, err := s.client.Refresh(ctx, sess.RefreshToken)
	if err != nil {
		s.log.Debug("refresh: failed", "why", why, "lock_wait", lockWait, "duration", time.Since(t0), "error", err)
		return s.refreshFailed(ctx, sess, err)
	}
	// Still the same login: what belongs to it (resolved secret keys)
	// stays valid across the refresh.
	fresh.LoginID = loginID(sess)
	t1 := time.Now()
	saveErr := s.store.Save(ctx, fresh)
	persist := time.Since(t1)
	if saveErr != nil {
		// The old refresh token is spent: the new session exists only here.
		// Use it, say so, and retry the write on later calls.
		s.log.Error("refresh: could not persist the new session; it is kept in memory and the write will be retried",
			"store", s.store.Location(), "error", saveErr)
	}
	s.log.Debug("refresh: done", "why", why, "lock_wait", lockWait, "duration", t1.Sub(t0), "persist", persist,
		"expires_in", time.Until(fresh.Expiry).Round(time.Second), "persisted", saveErr == nil)
	c := s.use(fresh, s.store.Version(), saveErr, storedRefresh)
	return c.token, nil
}

// changeWatcher is a store that can stop waiting for the lock when another
// process saves a session meanwhile (store.Store.LockOrChanged).
type changeWatcher interface {
	LockOrChanged(ctx context.Context, wait time.Duration, since store.Version) (unlock func(), changed bool, err error)
}

// lock takes the session lock for a refresh of stale. While waiting, if
// the store changes and now holds a different, unexpired access token, it
// returns that token with a nil unlock instead: the lock holder refreshed,
// and queueing behind it only to re-read the same session would serialize
// every waiter of a refresh storm. Reading without the lock is safe because
// writes are atomic renames, and nothing is refreshed without the lock.
func (s *Source) lock(ctx context.Context, stale string) (unlock func(), tok Token, err error) {
	cw, ok := s.store.(changeWatcher)
	if !ok {
		unlock, err = s.store.Lock(ctx, s.opts.LockWait)
		return unlock, Token{}, err
	}
	deadline := time.Now().Add(s.opts.LockWait)
	since := s.store.Version()
	for {
		unlock, changed, err := cw.LockOrChanged(ctx, time.Until(deadline), since)
		if err != nil || !changed {
			return unlock, Token{}, err
		}
		since = s.store.Version()
		sess, err := s.store.Load(ctx)
		if err == nil && sess.AccessToken != stale && !expired(sess, s.opts.Now()) {
			return nil, s.use(sess, since, nil, "").token, nil
		}
	}
}

// refreshFailed applies rule 6 to a failed refresh of sess. The caller
// holds the lock. It returns a token only when the store turned out to hold
// a newer, unexpired session.
func (s *Source) refreshFailed(ctx context.Context, sess *store.Session, err error) (Token, error) {
	var ae *envelope.Error
	if !errors.As(err, &ae) {
		return Token{}, errRefreshFailed("Could not refresh the Clerk session.", err)
	}
	if !errors.Is(err, errInvalidGrant) {
		return Token{}, ae
	}
	// Compare-and-delete: only forget the session if it still holds the
	// refresh token that was refused.
	version := s.store.Version()
	now, lerr := s.store.Load(ctx)
	switch {
	case lerr == nil && now.RefreshToken != sess.RefreshToken:
		// Someone wrote a new session meanwhile without the lock (an older
		// clerk-mcp, say): keep it, and use it if it is still good.
		s.log.Debug("refresh: invalid_grant, but the store holds a newer session; keeping it")
		if !expired(now, s.opts.Now()) {
			return s.use(now, version, nil, "").token, nil
		}
		return Token{}, ae
	case lerr == nil:
		if derr := s.store.Delete(ctx); derr != nil {
			s.log.Warn("refresh: could not delete the expired session", "error", derr)
		}
	}
	s.current.Store(nil)
	return Token{}, ae
}

// retryPersist tries again to save a session whose persist failed. It
// returns the cached session to continue with, or nil to reload.
func (s *Source) retryPersist(ctx context.Context, c *cached) *cached {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if s.current.Load() != c {
		return s.current.Load()
	}
	unlock, err := s.store.Lock(ctx, s.opts.LockWait)
	if err != nil {
		return c
	}
	defer unlock()
	stored, err := s.store.Load(ctx)
	if err == nil && stored.RefreshToken != c.replaced && stored.RefreshToken != c.session.RefreshToken {
		// Someone logged in or refreshed since: theirs wins.
		s.log.Warn("refresh: discarding unsaved session; the store holds a different one")
		return nil
	}
	if err := s.store.Save(ctx, c.session); err != nil {
		s.log.Error("refresh: still cannot persist the session", "store", s.store.Location(), "error", err)
		return c
	}
	s.log.Info("refresh: persisted the session that was held in memory", "store", s.store.Location())
	return s.use(c.session, s.store.Version(), nil, "")
}

// PendingWrite reports why the session in use is held only in memory: a
// refresh rotated the tokens but the store refused the new session. It is
// nil when there is nothing unsaved. Later calls retry the write; until one
// succeeds, the session does not survive a restart of this process.
func (s *Source) PendingWrite() error {
	if c := s.current.Load(); c != nil {
		return c.unsaved
	}
	return nil
}

// WaitRefreshes waits until every shared refresh that started before it
// was called has ended: the new session is persisted (or the refresh
// failed). A process calls it before exiting, so that a shutdown never
// falls between Clerk's answer, which spends the old refresh token, and
// the write of the new one. Each refresh is bounded by RefreshTimeout.
// Refreshes that start meanwhile wait for WaitRefreshes to see the others
// end, then go on. It returns ctx's error if ctx ends first.
func (s *Source) WaitRefreshes(ctx context.Context) error {
	idle := make(chan struct{})
	go func() {
		// Lock waits for every reader, that is every refresh in flight.
		s.flights.Lock()
		close(idle)
		s.flights.Unlock()
	}()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for session refreshes: %w", ctx.Err())
	}
}

// Credentials returns the access and refresh tokens of the session in use,
// from memory, so that callers can keep them out of what they show. Both
// are empty until a token has been handed out.
func (s *Source) Credentials() (accessToken, refreshToken string) {
	if c := s.current.Load(); c != nil {
		return c.session.AccessToken, c.session.RefreshToken
	}
	return "", ""
}

// use publishes sess as the session in use.
func (s *Source) use(sess *store.Session, version store.Version, unsaved error, replaced string) *cached {
	c := &cached{
		session: sess,
		token: Token{
			AccessToken: sess.AccessToken,
			TokenType:   sess.TokenType,
			Expiry:      sess.Expiry,
			LoginID:     loginID(sess),
		},
		refreshAt: refreshAt(sess),
		version:   version,
		unsaved:   unsaved,
		replaced:  replaced,
	}
	c.checked.Store(s.since())
	s.current.Store(c)
	return c
}

// loginID is sess's login identity. A session stored before logins had ids
// gets one derived from its refresh token (else its access token), which
// its first refresh then keeps: never shared with another login.
func loginID(sess *store.Session) string {
	if sess.LoginID != "" {
		return sess.LoginID
	}
	tok := sess.RefreshToken
	if tok == "" {
		tok = sess.AccessToken
	}
	sum := sha256.Sum256([]byte(tok))
	return "legacy-" + hex.EncodeToString(sum[:8])
}

// refreshAt is when a session should be refreshed: a leeway before expiry of
// about a minute, but never more than half the token's lifetime, so that a
// short-lived token is used rather than refreshed on every call.
func refreshAt(sess *store.Session) time.Time {
	if sess.Expiry.IsZero() {
		return time.Time{}
	}
	leeway := maxLeeway
	if !sess.ObtainedAt.IsZero() {
		if half := sess.Expiry.Sub(sess.ObtainedAt) / 2; half < leeway {
			leeway = half
		}
	}
	if leeway < 0 {
		leeway = 0
	}
	return sess.Expiry.Add(-leeway)
}

func expired(sess *store.Session, now time.Time) bool {
	return !sess.Expiry.IsZero() && !now.Before(sess.Expiry)
}

// Session returns the stored session without refreshing it or calling
// Clerk: the "is there a session?" question. Errors are *envelope.Error.
func (s *Source) Session(ctx context.Context) (*store.Session, error) {
	sess, err := s.store.Load(ctx)
	if err != nil {
		return nil, s.locate(s.loadFailed(ctx, err))
	}
	return sess, nil
}

// Do calls call with a valid access token. If call's error matches
// ErrUnauthorized (a 401 on a token believed valid), Do forces one refresh
// and calls it once more (refresh rule 5).
func (s *Source) Do(ctx context.Context, call func(ctx context.Context, accessToken string) error) error {
	tok, err := s.Token(ctx)
	if err != nil {
		return err
	}
	err = call(ctx, tok.AccessToken)
	if !errors.Is(err, ErrUnauthorized) {
		return err
	}
	s.log.Debug("refresh: access token refused with 401; forcing a refresh")
	tok, rerr := s.Refresh(ctx, tok.AccessToken)
	if rerr != nil {
		return rerr
	}
	return call(ctx, tok.AccessToken)
}

// UserInfo returns the logged-in user, refreshing as needed.
func (s *Source) UserInfo(ctx context.Context) (*UserInfo, error) {
	var info *UserInfo
	err := s.Do(ctx, func(ctx context.Context, token string) (err error) {
		info, err = s.client.UserInfo(ctx, token)
		return err
	})
	if errors.Is(err, ErrUnauthorized) {
		return nil, s.locate(errSessionExpired(" (Clerk refused a freshly refreshed token)", err))
	}
	if err != nil {
		var ae *envelope.Error
		if errors.As(err, &ae) || ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("fetch user info: %w", err)
	}
	return info, nil
}
