package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
)

// WaitRefreshes outlasts the caller that started a refresh: the caller
// gives up after Clerk rotated the token, and WaitRefreshes returns only
// once the new session is stored, as a process about to exit needs.
func TestWaitRefreshesOutlastsCancelledCaller(t *testing.T) {
	e := newTestEnv(t)
	old := e.seed(t, time.Now().Add(-time.Minute))
	rotated, release := make(chan struct{}), make(chan struct{})
	e.fake.OnRotate(func() {
		close(rotated)
		<-release
	})
	src := e.source(auth.SourceOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	called := make(chan error, 1)
	go func() {
		_, err := src.Token(ctx)
		called <- err
	}()
	<-rotated
	cancel()
	if err := <-called; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- src.WaitRefreshes(context.Background()) }()
	short, stop := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer stop()
	if err := src.WaitRefreshes(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitRefreshes with a refresh held at Clerk: %v, want the deadline", err)
	}
	select {
	case err := <-waited:
		t.Fatalf("WaitRefreshes returned %v while the refresh was held", err)
	default:
	}
	close(release)
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if s := e.stored(t); s.RefreshToken == old.RefreshToken || !e.fake.RefreshTokenValid(s.RefreshToken) {
		t.Fatal("WaitRefreshes returned before the rotated session was stored")
	}
	// Idle: returns at once.
	if err := src.WaitRefreshes(context.Background()); err != nil {
		t.Fatal(err)
	}
}
