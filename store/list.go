package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Listing describes one stored session without its tokens.
type Listing struct {
	Profile  string
	Issuer   string
	ClientID string
	User     string    // who logged in, when the login recorded it
	Expiry   time.Time // of the access token; zero when unknown
	Backend  string    // "keyring" or "file"
	Location string    // where the session lives, for humans
	Err      error     // the session exists but cannot be read
}

// List returns every session stored under opts.Dir, sorted by profile and
// issuer: those in the index, and session files that the index does not
// know (written by a clerk-mcp from before the index). Each is read
// through a store opened with opts' Mode, Keyring and KeyringTimeout for
// its issuer, client and profile; opts' Issuer, ClientID and Profile are
// ignored. A session in the keyring written before the index existed is
// listed from its next save on.
func List(ctx context.Context, opts Options) ([]Listing, error) {
	if opts.Dir == "" {
		return nil, errors.New("list sessions: no config directory")
	}
	entries, _ := (&index{dir: opts.Dir}).read()
	known := make(map[string]bool)
	for _, e := range entries {
		known[e.Key] = true
	}
	var out []Listing
	files, err := filepath.Glob(filepath.Join(opts.Dir, "session-*.json"))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	for _, path := range files {
		key := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "session-"), ".json")
		if known[key] {
			continue
		}
		f := NewFile(path)
		sess, err := f.Load(ctx)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			out = append(out, Listing{Backend: "file", Location: f.Location(), Err: err})
			continue
		}
		e := indexEntry{Key: key, Profile: profileOrDefault(sess.Profile), Issuer: sess.Issuer, ClientID: sess.ClientID}
		// A file whose name does not match its content is a copy or a
		// leftover that no configuration would ever read.
		if sessionKey(e.Issuer, e.ClientID, e.Profile) == key {
			entries = append(entries, e)
		}
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o := opts
		o.Issuer, o.ClientID, o.Profile = e.Issuer, e.ClientID, e.Profile
		st, err := Open(o)
		if err != nil {
			continue // a profile name edited by hand into the index
		}
		l := Listing{Profile: e.Profile, Issuer: e.Issuer, ClientID: e.ClientID, User: e.User}
		sess, err := st.Load(ctx)
		switch {
		case errors.Is(err, ErrNotFound):
			continue // deleted by hand, or in a backend this mode does not read
		case err != nil:
			l.Err, l.Location = err, st.Location()
		default:
			l.Expiry, l.Backend, l.Location = sess.Expiry, st.Backend(), st.Location()
		}
		out = append(out, l)
	}
	slices.SortStableFunc(out, func(a, b Listing) int {
		return cmp.Or(cmp.Compare(a.Profile, b.Profile), cmp.Compare(a.Issuer, b.Issuer), cmp.Compare(a.ClientID, b.ClientID))
	})
	return out, nil
}
