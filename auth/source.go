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
	// LockOrChanged is Lock that gives up waiting, with changed set and no
	// lock held, once Version differs from since: the lock holder saved.
	LockOrChanged(ctx context.Context, wait time.Duration, since store.Version) (unlock func(), changed bool, err error)
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
	// Now is the clock, for expiry and for the Recheck interval; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives debug events about refreshes; nil discards them.
	Logger *slog.Logger
}

// Source hands out valid access tokens for the stored session, refreshing
// it when needed under the refresh rules of the package documentation: one
// refresh in flight per process, a cross-process lock around re-read,
// refresh and persist, no refresh when another process already did it,
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
	// persistMu serializes retries of a failed persist (persistUnsaved).
	persistMu sync.Mutex
	// flights is held for reading by every caller of a shared refresh,
	// from before the flight starts until it ends (the new session is
	// persisted or the refresh failed), so that WaitRefreshes can wait for
	// them all.
	flights sync.RWMutex
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
	return &Source{store: st, client: client, opts: opts, log: log, epoch: opts.Now()}
}

// Store returns the session store the source reads.
func (s *Source) Store() SessionStore { return s.store }

// since is a clock reading for recheck bookkeeping, monotonic when the
// clock is time.Now.
func (s *Source) since() int64 { return int64(s.opts.Now().Sub(s.epoch)) }

// trigger is what prompted a refresh. A refresh for expiry replaces a token
// nobody has seen refused; the others report their token as refused.
type trigger int

const (
	expiry       trigger = iota // the token is within the leeway of its expiry
	unauthorized                // Clerk answered 401 to the token (refresh rule 5)
	forced                      // Source.Refresh was called
)

var triggerNames = [...]string{expiry: "expiry", unauthorized: "unauthorized", forced: "forced"}

func (t trigger) String() string { return triggerNames[t] }

// cached is an immutable view of the session in use, plus when it was last
// checked against the store.
type cached struct {
	session   *store.Session
	token     Token
	refreshAt time.Time     // zero: never refresh for expiry
	version   store.Version // the store's version when session was read
	checked   atomic.Int64  // Source.since of the last version check
	unsaved   *unsaved      // nil once session is stored
}

// fresh reports whether c's token is still before its refresh leeway: it
// is handed out as is, without a refresh.
func (c *cached) fresh(now time.Time) bool {
	return c.refreshAt.IsZero() || now.Before(c.refreshAt)
}

// unsaved is why a refreshed session is held only in memory: Clerk rotated
// the tokens, but the store refused the new session (refresh rule 4).
type unsaved struct {
	err error
	// replaced is the refresh token the session rotated out. The store
	// still holds it, and it is spent.
	replaced string
}

// spent reports whether stored is the session that the unsaved one
// replaced, whose refresh token Clerk would refuse. It is false for a nil u.
func (u *unsaved) spent(stored *store.Session) bool {
	return u != nil && stored.RefreshToken == u.replaced
}

// Token returns a valid access token, refreshing the session if it is within
// the leeway of expiry. Errors are *envelope.Error (or the context's error).
func (s *Source) Token(ctx context.Context) (Token, error) {
	if c := s.current.Load(); c != nil &&
		s.since()-c.checked.Load() < int64(s.opts.Recheck) && c.fresh(s.opts.Now()) {
		return c.token, nil
	}
	tok, err := s.slowToken(ctx)
	return tok, s.locate(err)
}

// slowToken is Token once the cached session is due for a check against
// the store, or missing, or due for a refresh.
func (s *Source) slowToken(ctx context.Context) (Token, error) {
	c := s.current.Load()
	if c != nil && c.unsaved != nil && s.since()-c.checked.Load() >= int64(s.opts.Recheck) {
		c = s.persistUnsaved(ctx, c)
	}
	if c != nil && s.store.Version().Equal(c.version) {
		c.checked.Store(s.since())
	} else {
		// First use, or another process saved or deleted a session
		// (refresh rule 9).
		version := s.store.Version()
		sess, err := s.store.Load(ctx)
		if err != nil {
			return Token{}, s.loadFailed(ctx, err)
		}
		c = s.use(sess, version, nil)
	}
	if c.fresh(s.opts.Now()) {
		return c.token, nil
	}
	return s.refresh(ctx, c.token.AccessToken, expiry)
}

// Refresh forces a refresh because stale, the access token the caller
// holds, was refused, unless the store already holds a different token that
// has not expired (refresh rules 3 and 5). An empty stale forces a refresh
// of whatever is stored.
func (s *Source) Refresh(ctx context.Context, stale string) (Token, error) {
	tok, err := s.refresh(ctx, stale, forced)
	return tok, s.locate(err)
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
	tok, err = s.refresh(ctx, tok.AccessToken, unauthorized)
	if err != nil {
		return s.locate(err)
	}
	return call(ctx, tok.AccessToken)
}

// refresh replaces stale through the shared refresh (refresh rule 1).
func (s *Source) refresh(ctx context.Context, stale string, why trigger) (Token, error) {
	tok, err := s.join(ctx, stale, why)
	if err == nil && why != expiry && stale != "" && tok.AccessToken == stale {
		// We joined a flight started for another token, and it handed
		// back the very token we report as refused: refresh once more.
		tok, err = s.join(ctx, stale, why)
	}
	return tok, err
}

// join starts the shared refresh, or joins the one in flight, and waits
// for its result or for ctx to end.
func (s *Source) join(ctx context.Context, stale string, why trigger) (Token, error) {
	// Held by each caller, before the flight can start and until it ends,
	// for WaitRefreshes.
	s.flights.RLock()
	ch := s.group.DoChan("refresh", func() (any, error) {
		// Detached: a caller that gives up must not abandon a rotation
		// half-way and lose the new refresh token (refresh rule 7).
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.RefreshTimeout)
		defer cancel()
		return s.lockedRefresh(rctx, stale, why)
	})
	select {
	case res := <-ch:
		s.flights.RUnlock()
		if res.Err != nil {
			return Token{}, res.Err
		}
		return res.Val.(Token), nil
	case <-ctx.Done():
		// The flight goes on without us; WaitRefreshes must still see it
		// until it ends.
		go func() {
			<-ch
			s.flights.RUnlock()
		}()
		return Token{}, ctx.Err()
	}
}

// lockedRefresh is one shared refresh, refresh rules 2-6 in order: lock,
// re-read, refresh only if still needed, persist, publish.
func (s *Source) lockedRefresh(ctx context.Context, stale string, why trigger) (Token, error) {
	log := s.log.With("why", why.String())

	// Lock (refresh rule 2).
	start := time.Now()
	outcome, unlock, tok, err := s.lock(ctx, stale)
	lockWait := time.Since(start)
	switch {
	case err != nil:
		log.Debug("refresh: lock not acquired", "lock_wait", lockWait, "error", err)
		if errors.Is(err, store.ErrLockTimeout) {
			return Token{}, errRefreshFailed("Another clerk-mcp process is refreshing the Clerk session and did not finish in time.", err)
		}
		return Token{}, errStore(err)
	case outcome == storeChanged:
		log.Debug("refresh: another process refreshed while we waited for the lock", "lock_wait", lockWait)
		return tok, nil
	}
	defer unlock()

	// Re-read (refresh rule 3).
	version := s.store.Version()
	sess, err := s.store.Load(ctx)
	if err != nil {
		return Token{}, s.loadFailed(ctx, err)
	}
	storedRefresh := sess.RefreshToken
	var pending *unsaved
	if c := s.current.Load(); c != nil && c.unsaved.spent(sess) {
		// The store still holds the session our unsaved one replaced;
		// refresh from the one in memory, which stays unsaved until a
		// write succeeds.
		sess, pending = c.session, c.unsaved
	}
	if s.usable(sess, stale) {
		log.Debug("refresh: store already held a newer session", "lock_wait", lockWait)
		return s.use(sess, version, pending).token, nil
	}

	// Refresh (refresh rule 6 on failure).
	if sess.RefreshToken == "" {
		return Token{}, errSessionExpired(" and cannot be refreshed (no refresh token)", nil)
	}
	t0 := time.Now()
	renewed, err := s.client.Refresh(ctx, sess.RefreshToken)
	if err != nil {
		log.Debug("refresh: failed", "lock_wait", lockWait, "duration", time.Since(t0), "error", err)
		return s.refreshFailed(ctx, sess, err)
	}
	// Still the same login: what belongs to it (resolved secret keys)
	// stays valid across the refresh.
	renewed.LoginID = loginID(sess)

	// Persist (refresh rule 4), then publish.
	t1 := time.Now()
	saveErr := s.store.Save(ctx, renewed)
	persist := time.Since(t1)
	var u *unsaved
	if saveErr != nil {
		// The old refresh token is spent: the new session exists only
		// here. Use it, say so, and retry the write on later calls.
		s.log.Error("refresh: could not persist the new session; it is kept in memory and the write will be retried",
			"store", s.store.Location(), "error", saveErr)
		u = &unsaved{err: saveErr, replaced: storedRefresh}
	}
	log.Debug("refresh: done", "lock_wait", lockWait, "duration", t1.Sub(t0), "persist", persist,
		"expires_in", time.Until(renewed.Expiry).Round(time.Second), "persisted", saveErr == nil)
	return s.use(renewed, s.store.Version(), u).token, nil
}

// lockOutcome is how a wait for the session lock ended without error.
type lockOutcome int

const (
	// locked: the lock is held; the caller re-reads, refreshes, persists
	// and unlocks.
	locked lockOutcome = iota
	// storeChanged: no lock is held. Another process refreshed while we
	// waited, and its token is to be used as is (refresh rule 3).
	storeChanged
)

// lock takes the session lock for a refresh of stale (refresh rule 2).
// While waiting, if the store changes and now holds a usable token, it
// returns storeChanged with that token instead: the lock holder refreshed,
// and queueing behind it only to re-read the same session would serialize
// every waiter of a refresh storm. Reading without the lock is safe because
// writes are atomic renames, and nothing is refreshed without the lock.
func (s *Source) lock(ctx context.Context, stale string) (lockOutcome, func(), Token, error) {
	deadline := time.Now().Add(s.opts.LockWait)
	since := s.store.Version()
	for {
		unlock, changed, err := s.store.LockOrChanged(ctx, time.Until(deadline), since)
		if err != nil {
			return locked, nil, Token{}, err
		}
		if !changed {
			return locked, unlock, Token{}, nil
		}
		since = s.store.Version()
		sess, err := s.store.Load(ctx)
		if err == nil && s.usable(sess, stale) {
			return storeChanged, nil, s.use(sess, since, nil).token, nil
		}
	}
}

// usable reports whether sess holds an access token other than stale that
// has not expired: another process refreshed, and its token is used as is
// instead of refreshing again (refresh rule 3).
func (s *Source) usable(sess *store.Session, stale string) bool {
	return sess.AccessToken != stale && (sess.Expiry.IsZero() || s.opts.Now().Before(sess.Expiry))
}

// refreshFailed applies refresh rule 6 to a failed refresh of sess. The
// caller holds the lock. It returns a token only when the store turned out
// to hold a newer, unexpired session.
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
		// clerk-mcp, say): keep it, and use it if it is still good. A
		// stored session always has an access token, so any one will do.
		s.log.Debug("refresh: invalid_grant, but the store holds a newer session; keeping it")
		if s.usable(now, "") {
			return s.use(now, version, nil).token, nil
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

// persistUnsaved tries again to save c, a session whose persist failed
// (refresh rule 4). It returns the cached session to continue with, or nil
// to reload.
func (s *Source) persistUnsaved(ctx context.Context, c *cached) *cached {
	s.persistMu.Lock()
	defer s.persistMu.Unlock()
	if s.current.Load() != c {
		return s.current.Load()
	}
	unlock, err := s.store.Lock(ctx, s.opts.LockWait)
	if err != nil {
		return c
	}
	defer unlock()
	if cur := s.current.Load(); cur != c {
		// A refresh published a newer session while we waited for the
		// lock: saving ours would put a spent refresh token over it.
		return cur
	}
	stored, err := s.store.Load(ctx)
	if err == nil && !c.unsaved.spent(stored) && stored.RefreshToken != c.session.RefreshToken {
		// Someone logged in or refreshed since: theirs wins.
		s.log.Warn("refresh: discarding unsaved session; the store holds a different one")
		return nil
	}
	if err := s.store.Save(ctx, c.session); err != nil {
		s.log.Error("refresh: still cannot persist the session", "store", s.store.Location(), "error", err)
		return c
	}
	s.log.Info("refresh: persisted the session that was held in memory", "store", s.store.Location())
	return s.use(c.session, s.store.Version(), nil)
}

// PendingWrite reports why the session in use is held only in memory: a
// refresh rotated the tokens but the store refused the new session. It is
// nil when there is nothing unsaved. Later calls retry the write; until one
// succeeds, the session does not survive a restart of this process.
func (s *Source) PendingWrite() error {
	if c := s.current.Load(); c != nil && c.unsaved != nil {
		return c.unsaved.err
	}
	return nil
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

// use publishes sess, read at the store's version, as the session in use.
// u is set when sess could not be persisted.
func (s *Source) use(sess *store.Session, version store.Version, u *unsaved) *cached {
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
		unsaved:   u,
	}
	c.checked.Store(s.since())
	s.current.Store(c)
	return c
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

// Session returns the stored session without refreshing it or calling
// Clerk: the "is there a session?" question. Errors are *envelope.Error.
func (s *Source) Session(ctx context.Context) (*store.Session, error) {
	sess, err := s.store.Load(ctx)
	if err != nil {
		return nil, s.locate(s.loadFailed(ctx, err))
	}
	return sess, nil
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
