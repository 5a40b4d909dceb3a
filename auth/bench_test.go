package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
)

// BenchmarkToken is the hot path: a valid session already loaded. It must
// not touch the keyring or the disk, nor allocate.
func BenchmarkToken(b *testing.B) {
	e := newTestEnv(&testing.T{})
	defer e.fake.Close()
	e.seed(&testing.T{}, time.Now().Add(time.Hour))
	src := e.source(auth.SourceOptions{Recheck: time.Hour})
	ctx := context.Background()
	if _, err := src.Token(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := src.Token(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRefreshHTTP is the baseline: the bare refresh round trip to the
// fake token endpoint, with nothing persisted.
func BenchmarkRefreshHTTP(b *testing.B) {
	e := newTestEnv(&testing.T{})
	defer e.fake.Close()
	rt := e.fake.Mint().RefreshToken
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := e.client.Refresh(ctx, rt)
		if err != nil {
			b.Fatal(err)
		}
		rt = s.RefreshToken
	}
}

// BenchmarkRefreshSource is a full forced refresh through Source: lock,
// re-read, the same round trip, atomic persist with fsync, publish. Its
// difference from BenchmarkRefreshHTTP is clerk-mcp's overhead.
func BenchmarkRefreshSource(b *testing.B) {
	e := newTestEnv(&testing.T{})
	defer e.fake.Close()
	e.seed(&testing.T{}, time.Now().Add(time.Hour))
	src := e.source(auth.SourceOptions{})
	ctx := context.Background()
	tok, err := src.Token(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if tok, err = src.Refresh(ctx, tok.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}
