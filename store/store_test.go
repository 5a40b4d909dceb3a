package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/store"
	"github.com/zalando/go-keyring"
)

// memKeyring is an in-memory keyring that can be made to fail, hang or
// refuse large values.
type memKeyring struct {
	mu      sync.Mutex
	items   map[string]string
	broken  error         // returned by every call when set
	hang    chan struct{} // calls block until closed, when set
	maxSize int           // Set fails with ErrSetDataTooBig above this, when > 0
}

func newMemKeyring() *memKeyring { return &memKeyring{items: map[string]string{}} }

func (k *memKeyring) wait() error {
	k.mu.Lock()
	hang, broken := k.hang, k.broken
	k.mu.Unlock()
	if hang != nil {
		<-hang
	}
	return broken
}

func (k *memKeyring) Get(service, user string) (string, error) {
	if err := k.wait(); err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.items[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (k *memKeyring) Set(service, user, password string) error {
	if err := k.wait(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.maxSize > 0 && len(password) > k.maxSize {
		return keyring.ErrSetDataTooBig
	}
	k.items[service+"/"+user] = password
	return nil
}

func (k *memKeyring) Delete(service, user string) error {
	if err := k.wait(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.items[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(k.items, service+"/"+user)
	return nil
}

func (k *memKeyring) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.items)
}

func openAuto(t *testing.T, dir string, kr store.KeyringBackend, timeout time.Duration) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Dir: dir, Issuer: "https://clerk.example.test", ClientID: "client",
		Mode: store.ModeAuto, Keyring: kr, KeyringTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func TestAutoPrefersKeyringAndRemovesFile(t *testing.T) {
	dir := t.TempDir()
	kr := newMemKeyring()
	ctx := context.Background()
	// A file left from a time the keyring was unavailable.
	fileOnly, _ := store.Open(store.Options{Dir: dir, Issuer: "https://clerk.example.test", ClientID: "client", Mode: store.ModeFile})
	fileOnly.Save(ctx, session("from-file"))

	st := openAuto(t, dir, kr, time.Second)
	if got, err := st.Load(ctx); err != nil || got.AccessToken != "from-file" {
		t.Fatalf("Load with only a file: %v", err)
	}
	if err := st.Save(ctx, session("from-keyring")); err != nil {
		t.Fatal(err)
	}
	if kr.len() != 1 || fileExists(st.File().Path()) {
		t.Fatalf("after a keyring save: keyring entries=%d, file exists=%v; want 1 and false", kr.len(), fileExists(st.File().Path()))
	}
	if got, _ := st.Load(ctx); got.AccessToken != "from-keyring" {
		t.Fatal("Load did not return the keyring session")
	}
	if err := st.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
}

func TestAutoStaleEntryNeverWins(t *testing.T) {
	dir := t.TempDir()
	kr := newMemKeyring()
	ctx := context.Background()
	st := openAuto(t, dir, kr, time.Second)
	st.Save(ctx, session("old-in-keyring"))
	// The keyring breaks; the next save goes to the file and cannot remove
	// the keyring entry.
	kr.broken = errors.New("dbus: connection closed")
	time.Sleep(10 * time.Millisecond)
	if err := st.Save(ctx, session("new-in-file")); err != nil {
		t.Fatal(err)
	}
	kr.broken = nil
	// A fresh process, with the keyring healthy again, sees both copies.
	fresh := openAuto(t, dir, kr, time.Second)
	got, err := fresh.Load(ctx)
	if err != nil || got.AccessToken != "new-in-file" {
		t.Fatalf("Load = %v, %v; want the newer file session", got, err)
	}
}

func TestAutoFallsBackWhenTooBig(t *testing.T) {
	dir := t.TempDir()
	kr := newMemKeyring()
	kr.maxSize = 2560
	ctx := context.Background()
	st := openAuto(t, dir, kr, time.Second)
	st.Save(ctx, session("small"))
	big := session(strings.Repeat("b", 3000))
	if err := st.Save(ctx, big); err != nil {
		t.Fatalf("Save of a large session: %v", err)
	}
	if !fileExists(st.File().Path()) || kr.len() != 0 {
		t.Fatalf("file exists=%v keyring entries=%d; want the file and no stale keyring entry", fileExists(st.File().Path()), kr.len())
	}
	if got, _ := st.Load(ctx); got.AccessToken != big.AccessToken {
		t.Fatal("Load did not return the large session")
	}
}

func TestHangingKeyringFallsBackWithinTimeout(t *testing.T) {
	dir := t.TempDir()
	kr := newMemKeyring()
	kr.hang = make(chan struct{})
	defer close(kr.hang)
	ctx := context.Background()
	st := openAuto(t, dir, kr, 200*time.Millisecond)
	start := time.Now()
	if err := st.Save(ctx, session("fallback")); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Save took %s with a 200ms keyring timeout", d)
	}
	if !fileExists(st.File().Path()) {
		t.Fatal("the session did not fall back to the file")
	}
	// The stuck keyring is not tried again on every call.
	start = time.Now()
	for range 5 {
		if got, err := st.Load(ctx); err != nil || got.AccessToken != "fallback" {
			t.Fatalf("Load: %v", err)
		}
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("5 loads took %s: the hanging keyring was retried each time", d)
	}
	if usable, why := st.KeyringStatus(); usable || why == "" {
		t.Fatalf("KeyringStatus = %v %q, want unusable with a reason", usable, why)
	}
}

func TestKeyringModeWithBrokenKeyringIsUnavailable(t *testing.T) {
	kr := newMemKeyring()
	kr.broken = errors.New("no secret service")
	st, _ := store.Open(store.Options{Dir: t.TempDir(), Issuer: "i", ClientID: "c", Mode: store.ModeKeyring, Keyring: kr})
	if err := st.Save(context.Background(), session("x")); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Save: %v, want ErrUnavailable", err)
	}
	if _, err := st.Load(context.Background()); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Load: %v, want ErrUnavailable", err)
	}
}

func TestSessionsAreKeyedByIssuerAndClient(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	prod, _ := store.Open(store.Options{Dir: dir, Issuer: "https://clerk.clerk.com", ClientID: "c", Mode: store.ModeFile})
	local, _ := store.Open(store.Options{Dir: dir, Issuer: "http://127.0.0.1:9999", ClientID: "c", Mode: store.ModeFile})
	prod.Save(ctx, session("prod"))
	local.Save(ctx, session("local"))
	if got, _ := prod.Load(ctx); got.AccessToken != "prod" {
		t.Fatal("a local session overwrote the production one")
	}
}

func TestVersionChangesOnSaveAndDelete(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, _ := store.Open(store.Options{Dir: dir, Issuer: "i", ClientID: "c", Mode: store.ModeFile})
	b, _ := store.Open(store.Options{Dir: dir, Issuer: "i", ClientID: "c", Mode: store.ModeFile})
	v0 := a.Version()
	b.Save(ctx, session("x"))
	v1 := a.Version()
	if v1.Equal(v0) {
		t.Fatal("Version did not change after another store saved")
	}
	if !a.Version().Equal(v1) {
		t.Fatal("Version changed without a write")
	}
	b.Delete(ctx)
	if a.Version().Equal(v1) {
		t.Fatal("Version did not change after another store deleted")
	}
}

func TestLockIsExclusiveAndBounded(t *testing.T) {
	dir := t.TempDir()
	a, _ := store.Open(store.Options{Dir: dir, Issuer: "i", ClientID: "c", Mode: store.ModeFile})
	b, _ := store.Open(store.Options{Dir: dir, Issuer: "i", ClientID: "c", Mode: store.ModeFile})
	unlock, err := a.Lock(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := b.Lock(context.Background(), 150*time.Millisecond); !errors.Is(err, store.ErrLockTimeout) {
		t.Fatalf("second Lock: %v, want ErrLockTimeout", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > time.Second {
		t.Fatalf("lock wait took %s, want about 150ms", d)
	}
	unlock()
	unlock2, err := b.Lock(context.Background(), time.Second)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	unlock2()
	if !fileExists(a.LockPath()) {
		t.Fatal("no lock file in the config directory")
	}
}

// A symlink planted at the lock or marker path must not make clerk-mcp
// create, open or replace a file of the planter's choosing.
func TestLockAndMarkerRefuseSymlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("creating symlinks needs privileges on Windows")
	}
	dir := t.TempDir()
	outside := t.TempDir()
	s, err := store.Open(store.Options{Dir: dir, Issuer: "i", ClientID: "c", Mode: store.ModeFile})
	if err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(outside, "planted-lock")
	if err := os.Symlink(planted, s.LockPath()); err != nil {
		t.Fatal(err)
	}
	if unlock, err := s.Lock(context.Background(), 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		if unlock != nil {
			unlock()
		}
		t.Fatalf("Lock through a planted symlink: %v, want a refusal naming the symlink", err)
	}
	if _, err := os.Lstat(planted); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Lock created the symlink's target: %v", err)
	}

	// The marker: saving replaces whatever is at its path by rename and
	// never writes through it.
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.lock"))
	stampPath := strings.TrimSuffix(matches[0], ".lock") + ".stamp"
	if err := os.Symlink(victim, stampPath); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(context.Background(), &store.Session{AccessToken: "at", Issuer: "i", ClientID: "c"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep me" {
		t.Fatalf("the marker was written through a symlink: victim now %q", got)
	}
}
