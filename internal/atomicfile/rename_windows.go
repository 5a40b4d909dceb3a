package atomicfile

import (
	"os"

	"golang.org/x/sys/windows"
)

// rename moves from over to. For a durable write the move is written
// through to the disk before it returns: Windows cannot sync a directory,
// and os.Rename's MoveFileEx does not ask for that by itself.
func rename(from, to string, durable bool) error {
	if !durable {
		return os.Rename(from, to)
	}
	src, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	dst, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	if err := windows.MoveFileEx(src, dst, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
