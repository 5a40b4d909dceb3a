// Package atomicfile replaces files so that a reader sees the old content
// or the new, never a mix: the data goes to a temp file beside the target,
// which gets its mode and is renamed over the target. A symlink at the
// target is replaced, not written through; callers that mean to follow
// one resolve it first.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Sync is how much of a write must reach the disk before Write returns.
type Sync int

const (
	// NoSync: readers never see a partial file, but a crash may lose
	// the write or, on some file systems, leave the file empty.
	NoSync Sync = iota
	// SyncFile: the data is on disk before the rename, so a crash
	// leaves the old content or the new.
	SyncFile
	// Durable: the rename is on disk too (the directory is synced, or on
	// Windows the rename written through), so the new content survives
	// a crash once Write returns.
	Durable
)

// Write replaces path with data, mode mode. The directory must exist. On
// failure path is unchanged and the temp file is removed. Where the
// platform cannot set modes (errors.ErrUnsupported, as on plan9 or wasip1)
// the temp file keeps the one it was created with, 0600.
func Write(path string, data []byte, mode fs.FileMode, sync Sync) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	tmpName := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	// Before the data goes in: CreateTemp's 0600 may be too narrow for
	// the caller, and a umask or platform default could make it wider.
	if err := tmp.Chmod(mode); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("chmod temp file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write temp file: %w", err)
	}
	if sync >= SyncFile {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("sync temp file: %w", err)
		}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temp file: %w", err)
	}
	if err := rename(tmpName, path, sync >= Durable); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	committed = true
	if sync >= Durable {
		SyncDir(dir)
	}
	return nil
}
