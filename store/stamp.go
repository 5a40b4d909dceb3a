package store

import (
	"crypto/rand"
	"os"
	"time"
)

// Version is an opaque token for the store's contents; see Store.Version.
type Version struct {
	info    os.FileInfo
	modTime time.Time
}

// Equal reports whether two versions denote the same contents.
func (v Version) Equal(o Version) bool {
	if v.info == nil || o.info == nil {
		return v.info == nil && o.info == nil
	}
	return os.SameFile(v.info, o.info) && v.modTime.Equal(o.modTime)
}

// stamp is a marker file replaced on every save and delete, so that other
// processes notice a login or logout with a stat instead of a keyring read.
type stamp struct{ path string }

func (st *stamp) touch() {
	var nonce [8]byte
	rand.Read(nonce[:])
	// Best effort and not fsynced: the marker only tells running processes
	// that something changed; after a crash they start by reading the store.
	writeFileAtomic(st.path, nonce[:], false)
}

func (st *stamp) version() Version {
	// Lstat: the marker is replaced by rename, never written through, so a
	// symlink planted in its place is not followed here either.
	info, err := os.Lstat(st.path)
	if err != nil {
		return Version{}
	}
	return Version{info: info, modTime: info.ModTime()}
}
