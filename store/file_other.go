//go:build !unix

package store

import "os"

// noFollow is zero: Windows has no O_NOFOLLOW, and creating a symlink
// there needs privileges a planter rarely has.
const noFollow = 0

// openNoFollow opens path for reading. Without O_NOFOLLOW the caller's Lstat
// check is what refuses symlinks.
func openNoFollow(path string) (*os.File, error) {
	return os.Open(path)
}
