package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// Mode selects the backends a Store uses.
type Mode string

// Store modes, as accepted by CLERK_MCP_STORE.
const (
	ModeAuto    Mode = "auto"    // keyring when it works, else file
	ModeKeyring Mode = "keyring" // keyring only
	ModeFile    Mode = "file"    // file only
)

// ParseMode validates a CLERK_MCP_STORE value; empty means auto.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeAuto:
		return ModeAuto, nil
	case ModeKeyring, ModeFile:
		return Mode(s), nil
	}
	return "", fmt.Errorf("unknown store mode %q (want auto, keyring or file)", s)
}

// keyringRetryAfter is how long a keyring that failed is left alone before
// being tried again, so a stuck provider costs one timeout, not one per call.
const keyringRetryAfter = time.Minute

// Options configures Open.
type Options struct {
	Dir      string // CLERK_CONFIG_DIR
	Issuer   string // OAuth base URL
	ClientID string
	// Profile names one of several sessions for the same issuer and
	// client; empty means DefaultProfile.
	Profile string
	Mode    Mode
	// Keyring is the keyring backend; nil means the OS keyring.
	Keyring KeyringBackend
	// KeyringTimeout bounds each keyring call; zero means DefaultKeyringTimeout.
	KeyringTimeout time.Duration
}

// Store keeps the session of one issuer, client and profile. In auto mode it prefers
// the OS keyring and falls back to the file; there is one source of truth: a
// keyring save removes the file, a file save removes the keyring entry, and
// if both still exist the one saved last wins.
type Store struct {
	mode     Mode
	keyring  *Keyring // nil in file mode
	file     *File    // nil in keyring mode
	lockPath string
	stamp    *stamp
	// The session's identity, and the index that lists it.
	issuer, clientID, profile, key string
	index                          *index

	// noKeyring explains why the keyring is skipped altogether.
	noKeyring string

	mu          sync.Mutex
	keyringDown time.Time // when the keyring last failed
	keyringWhy  string
	lastWhere   string // Location of the backend last read or written
	lastBackend string // "keyring" or "file": the backend of lastWhere
}

// Open returns the store for opts.Issuer, opts.ClientID and opts.Profile.
// It touches neither the keyring nor the disk. Each profile has its own
// session, lock and marker, so refreshes of different profiles never wait
// for each other.
func Open(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("open session store: no config directory")
	}
	profile := profileOrDefault(opts.Profile)
	if err := CheckProfile(profile); err != nil {
		return nil, fmt.Errorf("open session store: %w", err)
	}
	mode := opts.Mode
	if mode == "" {
		mode = ModeAuto
	}
	key := sessionKey(opts.Issuer, opts.ClientID, profile)
	s := &Store{
		mode:     mode,
		lockPath: filepath.Join(opts.Dir, "session-"+key+".lock"),
		stamp:    &stamp{path: filepath.Join(opts.Dir, "session-"+key+".stamp")},
		issuer:   opts.Issuer,
		clientID: opts.ClientID,
		profile:  profile,
		key:      key,
		index:    &index{dir: opts.Dir},
	}
	if mode != ModeKeyring {
		s.file = NewFile(filepath.Join(opts.Dir, "session-"+key+".json"))
	}
	if mode != ModeFile {
		backend := opts.Keyring
		if backend == nil {
			backend = SystemKeyring{}
			if ok, why := keyringPlausible(); !ok {
				s.noKeyring = why
			}
		}
		s.keyring = NewKeyring(backend, keyringAccount(opts.Issuer, opts.ClientID, profile), opts.KeyringTimeout)
	}
	return s, nil
}

// Mode returns the configured mode.
func (s *Store) Mode() Mode { return s.mode }

// Profile returns the profile whose session the store keeps.
func (s *Store) Profile() string { return s.profile }

// Issuer returns the OAuth issuer whose session the store keeps.
func (s *Store) Issuer() string { return s.issuer }

// Backend names the backend the session was last found in or written to,
// "keyring" or "file", or "" before the first read or write.
func (s *Store) Backend() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastBackend
}

// File returns the file backend, or nil in keyring mode.
func (s *Store) File() *File { return s.file }

// LockPath returns the path of the cross-process lock file.
func (s *Store) LockPath() string { return s.lockPath }

// Location describes where the session was last found or written, or where
// it would go.
func (s *Store) Location() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastWhere != "" {
		return s.lastWhere
	}
	if s.keyringUsableLocked() {
		return s.keyring.Location()
	}
	if s.file != nil {
		return s.file.Location()
	}
	return s.keyring.Location()
}

// KeyringStatus reports whether the keyring is in use and, if not, why.
func (s *Store) KeyringStatus() (usable bool, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keyring == nil {
		return false, "store mode is file"
	}
	if s.noKeyring != "" {
		return false, s.noKeyring
	}
	if !s.keyringDown.IsZero() && time.Since(s.keyringDown) < keyringRetryAfter {
		return false, s.keyringWhy
	}
	return true, ""
}

func (s *Store) keyringUsableLocked() bool {
	if s.keyring == nil || s.noKeyring != "" {
		return false
	}
	return s.keyringDown.IsZero() || time.Since(s.keyringDown) >= keyringRetryAfter
}

func (s *Store) keyringUsable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyringUsableLocked()
}

// noteKeyring records the outcome of a keyring call.
func (s *Store) noteKeyring(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errors.Is(err, ErrUnavailable) {
		s.keyringDown = time.Now()
		s.keyringWhy = err.Error()
	} else if err == nil || errors.Is(err, ErrNotFound) {
		s.keyringDown = time.Time{}
	}
}

func (s *Store) setWhere(where string) {
	backend := "keyring"
	if s.file != nil && where == s.file.Location() {
		backend = "file"
	}
	s.mu.Lock()
	s.lastWhere, s.lastBackend = where, backend
	s.mu.Unlock()
}

// unavailable builds the error for a store with no usable backend.
func (s *Store) unavailable(err error) error {
	if s.noKeyring != "" && s.file == nil {
		return fmt.Errorf("%w: keyring skipped: %s", ErrUnavailable, s.noKeyring)
	}
	return err
}

// Load returns the stored session, ErrNotFound, a *CorruptError, or an error
// wrapping ErrUnavailable.
func (s *Store) Load(ctx context.Context) (*Session, error) {
	var fromKeyring *Session
	var keyringErr error
	if s.keyringUsable() {
		fromKeyring, keyringErr = s.keyring.Load(ctx)
		s.noteKeyring(keyringErr)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
	} else if s.keyring != nil {
		keyringErr = s.unavailable(fmt.Errorf("%w: %s", ErrUnavailable, s.keyringWhyNow()))
	}
	if s.file == nil {
		if keyringErr == nil {
			s.setWhere(s.keyring.Location())
		}
		return fromKeyring, keyringErr
	}
	fromFile, fileErr := s.file.Load(ctx)
	switch {
	case fromKeyring != nil && fromFile != nil:
		if fromFile.SavedAt.After(fromKeyring.SavedAt) {
			s.setWhere(s.file.Location())
			return fromFile, nil
		}
		s.setWhere(s.keyring.Location())
		return fromKeyring, nil
	case fromKeyring != nil:
		// A corrupt file next to a good keyring entry is a leftover; the
		// keyring is the source of truth.
		s.setWhere(s.keyring.Location())
		return fromKeyring, nil
	case fromFile != nil:
		s.setWhere(s.file.Location())
		return fromFile, nil
	}
	var corrupt *CorruptError
	if errors.As(keyringErr, &corrupt) {
		return nil, keyringErr
	}
	return nil, fileErr
}

func (s *Store) keyringWhyNow() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noKeyring != "" {
		return s.noKeyring
	}
	return s.keyringWhy
}

// Save stores the session, in the keyring when it works, else in the file,
// and removes any copy in the other backend. The stored copy records the
// store's profile, and the session is listed in the profiles index.
func (s *Store) Save(ctx context.Context, sess *Session) error {
	saved := *sess
	saved.Profile = s.profile
	err := s.save(ctx, &saved)
	if err == nil {
		s.stamp.touch()
		s.index.add(s.entry())
	}
	return err
}

func (s *Store) save(ctx context.Context, sess *Session) error {
	var keyringErr error
	if s.keyringUsable() {
		keyringErr = s.keyring.Save(ctx, sess)
		s.noteKeyring(keyringErr)
		if keyringErr == nil {
			s.setWhere(s.keyring.Location())
			if s.file != nil {
				if err := s.file.Delete(ctx); err != nil {
					// The keyring copy is newer and wins on load; the file
					// is only a leftover.
					return nil
				}
			}
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
	} else if s.keyring != nil {
		keyringErr = s.unavailable(fmt.Errorf("%w: %s", ErrUnavailable, s.keyringWhyNow()))
	}
	if s.file == nil {
		return fmt.Errorf("save session to keyring: %w", keyringErr)
	}
	if err := s.file.Save(ctx, sess); err != nil {
		return fmt.Errorf("save session file: %w", errors.Join(err, ErrUnavailable))
	}
	s.setWhere(s.file.Location())
	if keyringErr != nil && errors.Is(keyringErr, ErrTooBig) {
		// The keyring works but still holds an older, smaller session.
		s.keyring.Delete(ctx)
	}
	return nil
}

// Delete removes the session from every backend. A keyring that is
// unavailable is not an error: nothing can be read from it either.
func (s *Store) Delete(ctx context.Context) error {
	var errs []error
	if s.keyringUsable() {
		err := s.keyring.Delete(ctx)
		s.noteKeyring(err)
		if err != nil && !errors.Is(err, ErrUnavailable) {
			errs = append(errs, err)
		}
	}
	if s.file != nil {
		if err := s.file.Delete(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	s.stamp.touch()
	s.index.remove(s.key)
	return nil
}

// Version identifies the store's contents as of now without reading the
// session: it changes whenever any process saves or deletes a session. It
// costs one stat of a marker file.
func (s *Store) Version() Version { return s.stamp.version() }
