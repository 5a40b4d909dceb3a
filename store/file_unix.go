//go:build unix

package store

import (
	"os"
	"syscall"
)

// noFollow makes an open fail when the path's last element is a symlink.
const noFollow = syscall.O_NOFOLLOW

// openNoFollow opens path for reading and fails if its last element is a
// symlink, closing the window between the Lstat check and the open.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}
