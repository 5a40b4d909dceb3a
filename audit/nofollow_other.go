//go:build !unix

package audit

// noFollow is zero: Windows has no O_NOFOLLOW, and creating a symlink
// there needs privileges a planter rarely has. The Lstat checks before
// each open are what refuse symlinks.
const noFollow = 0
