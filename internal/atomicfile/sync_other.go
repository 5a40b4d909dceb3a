//go:build !unix

package atomicfile

// SyncDir is a no-op: Windows cannot open a directory for syncing,
// and MoveFileEx already makes the rename durable.
func SyncDir(string) {}
