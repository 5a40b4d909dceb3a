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

// lockPollInterval is how often a waiting process retries the lock.
const lockPollInterval = 10 * time.Millisecond

// Lock takes the cross-process session lock (flock on Unix, LockFileEx on
// Windows), waiting at most wait. The returned function releases it.
func (s *Store) Lock(ctx context.Context, wait time.Duration) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(s.lockPath), 0o700); err != nil {
		return nil, fmt.Errorf("create config directory: %w", err)
	}
	fl := flock.New(s.lockPath, flock.SetPermissions(0o600))
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	ok, err := fl.TryLockContext(waitCtx, lockPollInterval)
	if ok {
		return func() { fl.Unlock() }, nil
	}
	fl.Close()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("lock %s: %w", s.lockPath, err)
	}
	return nil, fmt.Errorf("%w (%s, waited %s)", ErrLockTimeout, s.lockPath, wait)
}
