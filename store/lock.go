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

// ErrLockTimeout reports that another process held a lock for the whole
// wait. For the session lock it is retryable, and the caller must not
// refresh without the lock.
var ErrLockTimeout = errors.New("timed out waiting for the lock")

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
	var stop func() bool
	if since != nil {
		stop = func() bool { return !s.Version().Equal(*since) }
	}
	unlock, changed, err = LockFile(ctx, s.lockPath, wait, stop)
	if errors.Is(err, ErrLockTimeout) {
		return nil, false, fmt.Errorf("%w (%s, waited %s)", ErrLockTimeout, s.lockPath, wait)
	}
	return unlock, changed, err
}

// LockFile takes a cross-process lock on the file at path (flock on Unix,
// LockFileEx on Windows), creating it 0600 and refusing a symlink planted
// in its place, waiting at most wait. While it waits, a non-nil stop is
// asked at each poll whether waiting still makes sense: when it says no,
// LockFile returns with stopped set and no lock held. The session lock,
// the profiles index and the audit log all lock through it.
func LockFile(ctx context.Context, path string, wait time.Duration, stop func() bool) (unlock func(), stopped bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("create config directory: %w", err)
	}
	if isSymlink(path) {
		return nil, false, fmt.Errorf("lock %s: is a symbolic link; refusing to follow it (remove it)", path)
	}
	// A symlink planted at the lock path would make us create or open a
	// file of the planter's choosing; O_NOFOLLOW closes the race after the
	// check above.
	fl := flock.New(path, flock.SetPermissions(0o600), flock.SetFlag(os.O_CREATE|os.O_RDWR|noFollow))
	deadline := time.Now().Add(wait)
	poll := firstPoll
	for {
		ok, err := fl.TryLock()
		if err != nil {
			fl.Close()
			return nil, false, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return func() { fl.Unlock() }, false, nil
		}
		if stop != nil && stop() {
			fl.Close()
			return nil, true, nil
		}
		if time.Now().Add(poll).After(deadline) {
			fl.Close()
			return nil, false, ErrLockTimeout
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
