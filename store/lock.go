package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// ErrLockTimeout reports that another process held the session lock for the
// whole wait. It is retryable; the caller must not refresh without the lock.
var ErrLockTimeout = errors.New("timed out waiting for the session lock")

// A waiting process polls the lock, first after firstPoll, then doubling
// up to maxPoll: a few waiters go on right after a refresh of a few ms
// ends, while a storm of many waiters does not starve the refresher of CPU.
// Polling, not a blocking flock in a goroutine, because a blocked flock
// cannot be abandoned at the deadline: each timed-out wait would leak a
// thread stuck in the kernel.
const (
	firstPoll = time.Millisecond
	maxPoll   = 10 * time.Millisecond
)

// Lock takes the cross-process session lock (flock on Unix, LockFileEx on
// Windows), waiting at most wait. The returned function releases it.
func (s *Store) Lock(ctx context.Context, wait time.Duration) (unlock func(), err error) {
	unlock, _, err = s.lock(ctx, wait, nil)
	return unlock, err
}

// LockOrChanged is Lock that also stops waiting, with changed set and no
// lock held, as soon as the store's version differs from since: the
// process holding the lock has saved (or deleted) the session. A waiter in a
// refresh storm can then read the new session instead of queueing for the
// lock only to find it there.
func (s *Store) LockOrChanged(ctx context.Context, wait time.Duration, since Version) (unlock func(), changed bool, err error) {
	return s.lock(ctx, wait, &since)
}

func (s *Store) lock(ctx context.Context, wait time.Duration, since *Version) (unlock func(), changed bool, err error) {
	if err := os.MkdirAll(filepath.Dir(s.lockPath), 0o700); err != nil {
		return nil, false, fmt.Errorf("create config directory: %w", err)
	}
	if isSymlink(s.lockPath) {
		return nil, false, fmt.Errorf("lock %s: is a symbolic link; refusing to follow it (remove it)", s.lockPath)
	}
	// A symlink planted at the lock path would make us create or open a
	// file of the planter's choosing; O_NOFOLLOW closes the race after the
	// check above.
	fl := flock.New(s.lockPath, flock.SetPermissions(0o600), flock.SetFlag(os.O_CREATE|os.O_RDWR|noFollow))
	deadline := time.Now().Add(wait)
	poll := firstPoll
	for {
		ok, err := fl.TryLock()
		if err != nil {
			fl.Close()
			return nil, false, fmt.Errorf("lock %s: %w", s.lockPath, err)
		}
		if ok {
			return func() { fl.Unlock() }, false, nil
		}
		if since != nil && !s.Version().Equal(*since) {
			fl.Close()
			return nil, true, nil
		}
		if time.Now().Add(poll).After(deadline) {
			fl.Close()
			return nil, false, fmt.Errorf("%w (%s, waited %s)", ErrLockTimeout, s.lockPath, wait)
		}
		select {
		case <-ctx.Done():
			fl.Close()
			return nil, false, ctx.Err()
		case <-time.After(poll):
		}
		poll = min(2*poll, maxPoll)
	}
}
