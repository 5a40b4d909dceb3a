//go:build !unix

package store

import (
	"errors"
	"os"
)

// openNoFollow opens path for reading. Without O_NOFOLLOW the caller's Lstat
// check is what refuses symlinks.
func openNoFollow(path string) (*os.File, error) {
	return os.Open(path)
}

// syncDir is a no-op: Windows cannot open a directory for syncing, and
// MoveFileEx already makes the rename durable.
func syncDir(string) {}

func isChmodUnsupported(err error) bool { return errors.Is(err, errors.ErrUnsupported) }
