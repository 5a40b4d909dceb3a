package auth_test

import (
	"sync"
	"time"
)

// testClock is a clock that moves only when a test advances it, for
// SourceOptions.Now and auth.SetClientClock: expiry and recheck decisions
// then follow the test's steps instead of the wall clock. It is safe for
// concurrent use.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

// newTestClock returns a clock that reads the current time until advanced.
func newTestClock() *testClock { return &testClock{now: time.Now()} }

// Now reads the clock; pass the method value as a func() time.Time.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
