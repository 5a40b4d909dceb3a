//go:build !unix

package atomicfile

// SyncDir is a no-op: Windows cannot open a directory for syncing; a
// durable write is written through by its rename instead (rename_windows.go).
func SyncDir(string) {}
