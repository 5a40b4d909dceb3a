package atomicfile_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/internal/atomicfile"
)

// entries lists dir's names, to catch a temp file left behind.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteSetsModeAndLeavesNoTemp(t *testing.T) {
	for _, sync := range []atomicfile.Sync{atomicfile.NoSync, atomicfile.SyncFile, atomicfile.Durable} {
		for _, mode := range []fs.FileMode{0o600, 0o640, 0o644} {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.json")
			if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := atomicfile.Write(path, []byte("new"), mode, sync); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(path); string(got) != "new" {
				t.Fatalf("content %q, want %q", got, "new")
			}
			if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != mode {
				t.Fatalf("sync %d: mode %04o, want %04o", sync, fi.Mode().Perm(), mode)
			}
			if names := entries(t, dir); len(names) != 1 {
				t.Fatalf("left behind: %v", names)
			}
		}
	}
}

// A failed rename (the target is a directory that is not empty) leaves
// the target as it was and no temp file.
func TestFailedWriteLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.MkdirAll(filepath.Join(path, "inside"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(path, []byte("new"), 0o600, atomicfile.Durable); err == nil {
		t.Fatal("replacing a directory succeeded")
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "config.json" {
		t.Fatalf("left behind: %v", names)
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Fatalf("the target changed: %v", err)
	}
	// A missing directory fails before anything is created.
	if err := atomicfile.Write(filepath.Join(dir, "missing", "x"), []byte("new"), 0o600, atomicfile.NoSync); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
}

// A symlink at the target path is replaced by the file; what it pointed
// to is not written through.
func TestSymlinkAtTargetIsReplacedNotFollowed(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("creating symlinks needs privileges on Windows")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere.json")
	if err := os.WriteFile(target, []byte("theirs"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.json")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(path, []byte("mine"), 0o600, atomicfile.Durable); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); string(got) != "theirs" {
		t.Fatalf("the link's target was written: %q", got)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the link was not replaced by a 0600 file: %v, %v", fi.Mode(), err)
	}
	if got, _ := os.ReadFile(path); string(got) != "mine" {
		t.Fatalf("content %q", got)
	}
}
