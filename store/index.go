package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// IndexName is the file in the config directory that lists the stored
// sessions. The OS keyring cannot list its entries (go-keyring has no such
// call), so without it a session kept in the keyring could not be found
// again by its profile.
const IndexName = "profiles.json"

// indexLockWait bounds the wait for the index lock. The index is an aid
// to listing, not a source of truth: an update that cannot get the lock is
// skipped rather than delaying a login or a refresh.
const indexLockWait = 2 * time.Second

// index is the list of stored sessions in one config directory. Updates
// are best effort, serialized across processes by a lock file, and
// written atomically (0600, never through a symlink) like a session file.
type index struct{ dir string }

// indexEntry names one stored session. It holds no token.
type indexEntry struct {
	Key      string `json:"key"`
	Profile  string `json:"profile"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	// User is who logged in (an email or a user id), as the login
	// recorded it, for listings.
	User string `json:"user,omitempty"`
}

type indexFile struct {
	Sessions []indexEntry `json:"sessions"`
}

func (x *index) path() string { return filepath.Join(x.dir, IndexName) }

// read returns the entries; a missing index has none.
func (x *index) read() ([]indexEntry, error) {
	path := x.path()
	if info, err := os.Lstat(path); err == nil && !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file; refusing to read it", path)
	}
	f, err := openNoFollow(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read session index: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSessionFileSize))
	if err != nil {
		return nil, fmt.Errorf("read session index: %w", err)
	}
	var file indexFile
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("session index %s: invalid JSON: %w", path, err)
	}
	return file.Sessions, nil
}

// update applies change to the entries under the index lock, and writes
// them back if they changed. A corrupt index is started afresh: every
// entry in it is recreated by its session's next save.
func (x *index) update(change func([]indexEntry) []indexEntry) error {
	lockPath := filepath.Join(x.dir, "profiles.lock")
	ctx, cancel := context.WithTimeout(context.Background(), indexLockWait)
	defer cancel()
	unlock, _, err := LockFile(ctx, lockPath, indexLockWait, nil)
	if err != nil {
		return fmt.Errorf("session index: %w", err)
	}
	defer unlock()
	before, _ := x.read()
	after := change(slices.Clone(before))
	if slices.Equal(before, after) {
		return nil
	}
	data, err := json.MarshalIndent(indexFile{Sessions: after}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode session index: %w", err)
	}
	return writeFileAtomic(x.path(), append(data, '\n'), true)
}

// add lists e, keeping the user already recorded for its key when e has
// none (a refresh does not know who logged in).
func (x *index) add(e indexEntry) error {
	return x.update(func(entries []indexEntry) []indexEntry {
		i := slices.IndexFunc(entries, func(o indexEntry) bool { return o.Key == e.Key })
		if i < 0 {
			return append(entries, e)
		}
		if e.User == "" {
			e.User = entries[i].User
		}
		entries[i] = e
		return entries
	})
}

// remove unlists the session with key.
func (x *index) remove(key string) error {
	return x.update(func(entries []indexEntry) []indexEntry {
		return slices.DeleteFunc(entries, func(o indexEntry) bool { return o.Key == key })
	})
}

// entry is the store's line in the index.
func (s *Store) entry() indexEntry {
	return indexEntry{Key: s.key, Profile: s.profile, Issuer: s.issuer, ClientID: s.clientID}
}

// SetUser records who the stored session belongs to (an email, else a
// user id), for listings. The store itself never needs it.
func (s *Store) SetUser(user string) error {
	e := s.entry()
	e.User = user
	return s.index.add(e)
}
