//go:build !windows

package atomicfile

import "os"

// rename moves from over to; durability comes from syncing the directory
// afterwards (SyncDir).
func rename(from, to string, _ bool) error { return os.Rename(from, to) }
