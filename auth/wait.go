package auth

import (
	"fmt"
	"sync"
	"time"
)

// waiter tells the user that login is waiting and how long it will.
type waiter struct {
	stopOnce sync.Once
	done     chan struct{}
	finished chan struct{}
}

// waiter starts showing msg until deadline: one line that counts down on a
// terminal (opts.Live), a single plain line otherwise.
func (o *LoginOptions) waiter(msg string, deadline time.Time) *waiter {
	w := &waiter{done: make(chan struct{}), finished: make(chan struct{})}
	if !o.Live {
		fmt.Fprintf(o.Out, "%s (up to %s)...\n", msg, time.Until(deadline).Round(time.Second))
		close(w.finished)
		return w
	}
	go func() {
		defer close(w.finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			left := max(time.Until(deadline).Round(time.Second), 0)
			fmt.Fprintf(o.Out, "\r\033[K%s... %s left", msg, left)
			select {
			case <-w.done:
				fmt.Fprint(o.Out, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// stop ends the display; it is safe to call more than once.
func (w *waiter) stop() {
	w.stopOnce.Do(func() { close(w.done) })
	<-w.finished
}
