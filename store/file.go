package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/clerk-mcp/clerk-mcp/internal/atomicfile"
)

// maxSessionFileSize bounds what Load reads; a session is a few KB.
const maxSessionFileSize = 1 << 20

// File keeps the session as JSON in a 0600 file inside a 0700 directory.
// Writes are atomic: a reader sees the old file or the new one, never half.
type File struct {
	path string
	now  func() time.Time
}

// NewFile returns a file store for the session at path.
func NewFile(path string) *File {
	return &File{path: path, now: time.Now}
}

// Path returns the session file's path.
func (f *File) Path() string { return f.path }

// Location describes where the session lives, for humans.
func (f *File) Location() string { return "file " + f.path }

// Load reads the session. It returns ErrNotFound when there is none and a
// *CorruptError when the file cannot be trusted or decoded.
func (f *File) Load(ctx context.Context) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := f.refuseSymlink(); err != nil {
		return nil, err
	}
	file, err := openNoFollow(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, &CorruptError{Location: f.path, Err: err}
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxSessionFileSize+1))
	if err != nil {
		return nil, &CorruptError{Location: f.path, Err: err}
	}
	if len(data) > maxSessionFileSize {
		return nil, &CorruptError{Location: f.path, Err: errors.New("file too large")}
	}
	return decode(data, f.path)
}

// Save writes the session atomically: temp file in the same directory (0600),
// fsync, rename over the old file, fsync the directory.
func (f *File) Save(ctx context.Context, s *Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.refuseSymlink(); err != nil {
		return err
	}
	saved := *s
	saved.SavedAt = f.now().UTC()
	data, err := encode(&saved)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	return writeFileAtomic(f.path, data, true)
}

// Delete removes the session file; a missing file is not an error.
func (f *File) Delete(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := os.Remove(f.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete session file: %w", err)
	}
	if err == nil {
		atomicfile.SyncDir(filepath.Dir(f.path))
	}
	return nil
}

// refuseSymlink rejects a symlink planted at the session path: following it
// could read tokens from, or write them to, a place the user never chose.
func (f *File) refuseSymlink() error {
	info, err := os.Lstat(f.path)
	if err != nil {
		return nil
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return &CorruptError{Location: f.path, Err: errors.New("is a symbolic link; refusing to follow it")}
	}
	if !info.Mode().IsRegular() {
		return &CorruptError{Location: f.path, Err: errors.New("is not a regular file")}
	}
	return nil
}

// writeFileAtomic replaces path with data, mode 0600, creating its
// directory (0700) if need be, so that readers never observe a partial
// file. When durable, the new content also survives a crash once it
// returns (the file and its directory are fsynced).
func writeFileAtomic(path string, data []byte, durable bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	sync := atomicfile.NoSync
	if durable {
		sync = atomicfile.Durable
	}
	return atomicfile.Write(path, data, 0o600, sync)
}

// isSymlink reports whether path itself is a symbolic link.
func isSymlink(path string) bool {
	info, err := os.Lstat(path)
	return err == nil && info.Mode()&fs.ModeSymlink != 0
}
