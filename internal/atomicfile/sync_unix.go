//go:build unix

package atomicfile

import "os"

// SyncDir makes a rename or removal in dir durable. Errors are
// ignored: the data itself was synced, and some file systems refuse to
// sync directories.
func SyncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
