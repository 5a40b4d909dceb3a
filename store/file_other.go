//go:build !unix

package store

import (
	"errors"
	"os"
)

// noFollow is zero: Windows has no O_NOFOLLOW, and creating a symlink
// there needs privileges a planter rarely has.
const noFollow = 0

// openNoFollow opens path for reading. Without O_NOFOLLOW the caller's Lstat
// check is what refuses symlinks.
func openNoFollow(path string) (*os.File, error) {
	return os.Open(path)
}

// syncDir is a no-op: Windows cannot open a directory for syncing, and
// MoveFileEx already makes the rename durable.
func syncDir(string) {}

func isChmodUnsupported(err error) bool { return errors.Is(err, errors.ErrUnsupported) }
