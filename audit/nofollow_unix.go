//go:build unix

package audit

import "syscall"

// noFollow makes an open fail when the path's last element is a symlink.
const noFollow = syscall.O_NOFOLLOW
