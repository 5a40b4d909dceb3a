package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/store"
)

const (
	testIssuer = "https://clerk.example.test"
	testClient = "client"
)

func openProfile(t *testing.T, dir, profile string, mode store.Mode, kr store.KeyringBackend) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Dir: dir, Issuer: testIssuer, ClientID: testClient, Profile: profile, Mode: mode, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A session stored before profiles existed (no profile field, the
// pre-profile file name and keyring account) is the default profile's,
// and loads without a new login.
func TestDefaultProfileLoadsPreProfileSessions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, _ := json.Marshal(session("from-file"))
	legacy := filepath.Join(dir, "session-"+store.Key(testIssuer, testClient)+".json")
	if err := os.WriteFile(legacy, old, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, profile := range []string{"", store.DefaultProfile} {
		got, err := openProfile(t, dir, profile, store.ModeFile, nil).Load(ctx)
		if err != nil || got.AccessToken != "from-file" {
			t.Fatalf("profile %q: load pre-profile session file: %v %+v", profile, err, got)
		}
	}

	kr := newMemKeyring()
	oldEntry, _ := json.Marshal(session("from-keyring"))
	kr.Set(store.KeyringService, testIssuer+" "+testClient, string(oldEntry))
	got, err := openProfile(t, t.TempDir(), "", store.ModeKeyring, kr).Load(ctx)
	if err != nil || got.AccessToken != "from-keyring" {
		t.Fatalf("load pre-profile keyring entry: %v %+v", err, got)
	}
}

// Profiles of one issuer and client are separate sessions, in separate
// files, keyring entries and locks; each stored session records its
// profile.
func TestProfilesAreSeparateSessions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kr := newMemKeyring()
	def := openProfile(t, dir, "", store.ModeKeyring, kr)
	work := openProfile(t, dir, "work", store.ModeKeyring, kr)
	if err := def.Save(ctx, session("a")); err != nil {
		t.Fatal(err)
	}
	if err := work.Save(ctx, session("b")); err != nil {
		t.Fatal(err)
	}
	if kr.len() != 2 {
		t.Fatalf("%d keyring entries, want 2", kr.len())
	}
	if _, err := kr.Get(store.KeyringService, testIssuer+" "+testClient+" work"); err != nil {
		t.Fatalf("work profile's keyring account: %v", err)
	}
	a, _ := def.Load(ctx)
	b, _ := work.Load(ctx)
	if a.AccessToken != "a" || a.Profile != "default" || b.AccessToken != "b" || b.Profile != "work" {
		t.Fatalf("default %+v, work %+v", a, b)
	}
	if def.LockPath() == work.LockPath() {
		t.Fatal("two profiles share a lock")
	}
	if err := work.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if a, err := def.Load(ctx); err != nil || a.AccessToken != "a" {
		t.Fatalf("deleting the work profile touched the default one: %v", err)
	}

	files := openProfile(t, dir, "work", store.ModeFile, nil)
	if want := filepath.Join(dir, "session-"+store.Key(testIssuer, testClient)+"-work.json"); files.File().Path() != want {
		t.Fatalf("work session file %s, want %s", files.File().Path(), want)
	}
}

func TestProfileNames(t *testing.T) {
	for _, ok := range []string{"default", "work", "a", "team-2_b", "9", "abcdefghijklmnopqrstuvwxyz012345"} {
		if err := store.CheckProfile(ok); err != nil {
			t.Errorf("CheckProfile(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Work", "../x", "a/b", "-x", "_x", "a b", "x\n", "é", "abcdefghijklmnopqrstuvwxyz0123456"} {
		if err := store.CheckProfile(bad); err == nil {
			t.Errorf("CheckProfile(%q) accepted", bad)
		}
		if _, err := store.Open(store.Options{Dir: t.TempDir(), Profile: bad}); bad != "" && err == nil {
			t.Errorf("Open with profile %q accepted", bad)
		}
	}
}

// List finds every stored session: keyring ones through the index (the
// keyring cannot list), files the index never saw by scanning, and not
// those deleted since.
func TestListEverySession(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kr := newMemKeyring()
	work := openProfile(t, dir, "work", store.ModeAuto, kr)
	if err := work.Save(ctx, session("w")); err != nil {
		t.Fatal(err)
	}
	if err := work.SetUser("ada@example.com"); err != nil {
		t.Fatal(err)
	}
	// A refresh saves again without a user; the recorded one stays.
	if err := work.Save(ctx, session("w2")); err != nil {
		t.Fatal(err)
	}
	// A file written before the index existed.
	old, _ := json.Marshal(session("legacy"))
	if err := os.WriteFile(filepath.Join(dir, "session-"+store.Key(testIssuer, testClient)+".json"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	gone := openProfile(t, dir, "gone", store.ModeFile, nil)
	gone.Save(ctx, session("g"))
	gone.Delete(ctx)

	listed, err := store.List(ctx, store.Options{Dir: dir, Mode: store.ModeAuto, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 {
		t.Fatalf("listed %d sessions, want 2: %+v", len(listed), listed)
	}
	def, w := listed[0], listed[1]
	if def.Profile != "default" || def.Backend != "file" || def.Issuer != testIssuer || def.Expiry.IsZero() {
		t.Errorf("default: %+v", def)
	}
	if w.Profile != "work" || w.Backend != "keyring" || w.User != "ada@example.com" || w.Expiry.IsZero() || w.Err != nil {
		t.Errorf("work: %+v", w)
	}
	assertMode(t, filepath.Join(dir, store.IndexName), 0o600)
	data, _ := os.ReadFile(filepath.Join(dir, store.IndexName))
	if !json.Valid(data) || bytes.Contains(data, []byte("rt-w")) || bytes.Contains(data, []byte(`"w2"`)) {
		t.Fatalf("the index holds a token: %s", data)
	}
}

// The index is never read or written through a symlink planted in its
// place: an update replaces the link, and the target is untouched.
func TestIndexRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere.json")
	if err := os.WriteFile(target, []byte(`{"sessions":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, store.IndexName)); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	st := openProfile(t, dir, "work", store.ModeFile, nil)
	if err := st.Save(context.Background(), session("x")); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(target); string(data) != `{"sessions":[]}` {
		t.Fatalf("the symlink's target was written: %s", data)
	}
	if fi, err := os.Lstat(filepath.Join(dir, store.IndexName)); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Fatalf("index is still the planted symlink: %v", err)
	}
}
