package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/store"
)

func session(access string) *store.Session {
	return &store.Session{
		AccessToken:  access,
		RefreshToken: "rt-" + access,
		TokenType:    "Bearer",
		Expiry:       time.Now().Add(time.Hour).UTC().Truncate(time.Second),
		Issuer:       "https://clerk.example.test",
		ClientID:     "client",
	}
}

func TestFileRoundTripAndPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config", "clerk-mcp")
	f := store.NewFile(filepath.Join(dir, "session.json"))
	ctx := context.Background()
	if _, err := f.Load(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Load on empty dir: %v, want ErrNotFound", err)
	}
	want := session("a1")
	if err := f.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := f.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken || !got.Expiry.Equal(want.Expiry) || got.SavedAt.IsZero() {
		t.Fatalf("round trip: got %+v", got)
	}
	if runtime.GOOS != "windows" {
		assertMode(t, f.Path(), 0o600)
		assertMode(t, dir, 0o700)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
	if err := f.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Fatalf("%s has mode %o, want %o", path, got, want)
	}
}

func TestFileConcurrentWritersAndReadersNeverSeePartialJSON(t *testing.T) {
	f := store.NewFile(filepath.Join(t.TempDir(), "session.json"))
	ctx := context.Background()
	if err := f.Save(ctx, session(strings.Repeat("x", 4000))); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 20 {
		wg.Go(func() {
			for i := range 20 {
				// Sizes vary so a torn write would be visible.
				if err := f.Save(ctx, session(strings.Repeat(string(rune('a'+w)), 100+i*200))); err != nil {
					errs <- err
				}
			}
		})
		wg.Go(func() {
			for range 20 {
				s, err := f.Load(ctx)
				if err != nil {
					errs <- err
					continue
				}
				if c := s.AccessToken[0]; strings.Count(s.AccessToken, string(c)) != len(s.AccessToken) || s.RefreshToken != "rt-"+s.AccessToken {
					errs <- errors.New("read a mixed session")
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestFileCorruptOrTruncated(t *testing.T) {
	ctx := context.Background()
	good, _ := json.Marshal(session("abc"))
	for name, content := range map[string]string{
		"truncated":    string(good[:len(good)/2]),
		"not json":     "\x00\x01garbage",
		"empty":        "",
		"no token":     `{"refresh_token":"x"}`,
		"wrong shape":  `[1,2,3]`,
		"huge garbage": strings.Repeat("{", 2<<20),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "session.json")
			os.WriteFile(path, []byte(content), 0o600)
			_, err := store.NewFile(path).Load(ctx)
			var corrupt *store.CorruptError
			if !errors.As(err, &corrupt) {
				t.Fatalf("err = %v, want *CorruptError", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

func TestFileRefusesSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("creating symlinks needs privileges on Windows")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere.json")
	data, _ := json.Marshal(session("planted"))
	os.WriteFile(target, data, 0o600)
	path := filepath.Join(dir, "session.json")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	f := store.NewFile(path)
	var corrupt *store.CorruptError
	if _, err := f.Load(context.Background()); !errors.As(err, &corrupt) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Load through a symlink: %v, want refusal", err)
	}
	if err := f.Save(context.Background(), session("mine")); !errors.As(err, &corrupt) {
		t.Fatalf("Save over a symlink: %v, want refusal", err)
	}
	if got, _ := os.ReadFile(target); string(got) != string(data) {
		t.Fatal("the symlink target was modified")
	}
}
