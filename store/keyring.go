package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringService is the service name under which sessions are kept in the
// OS keyring.
const KeyringService = "clerk-mcp"

// DefaultKeyringTimeout bounds every keyring call. go-keyring itself has no
// timeout and can block forever on a stuck D-Bus provider.
const DefaultKeyringTimeout = 3 * time.Second

// ErrTooBig reports a session larger than the OS keyring accepts (Windows
// 2560 bytes, macOS about 3 KB); the auto store falls back to the file.
var ErrTooBig = errors.New("session too large for the OS keyring")

// KeyringBackend is the part of go-keyring the store uses. Tests substitute a
// backend that hangs or fails.
type KeyringBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// SystemKeyring is the OS keyring: macOS Keychain, Windows Credential
// Manager, or the Secret Service on Linux and BSD.
type SystemKeyring struct{}

// Get implements KeyringBackend.
func (SystemKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }

// Set implements KeyringBackend.
func (SystemKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}

// Delete implements KeyringBackend.
func (SystemKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// Keyring keeps the session in the OS keyring, one entry per issuer and
// client. Any error other than not-found means the keyring is unavailable.
type Keyring struct {
	backend KeyringBackend
	account string
	timeout time.Duration
	now     func() time.Time
}

// NewKeyring returns a keyring store for the entry named account, with every
// call bounded by timeout (DefaultKeyringTimeout when zero).
func NewKeyring(backend KeyringBackend, account string, timeout time.Duration) *Keyring {
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	return &Keyring{backend: backend, account: account, timeout: timeout, now: time.Now}
}

// Location describes where the session lives, for humans.
func (k *Keyring) Location() string {
	return fmt.Sprintf("OS keyring (service %q, account %q)", KeyringService, k.account)
}

// Load reads the session from the keyring.
func (k *Keyring) Load(ctx context.Context) (*Session, error) {
	var value string
	err := k.call(ctx, func() (err error) {
		value, err = k.backend.Get(KeyringService, k.account)
		return err
	})
	if err != nil {
		return nil, err
	}
	return decode([]byte(value), k.Location())
}

// Save writes the session to the keyring.
func (k *Keyring) Save(ctx context.Context, s *Session) error {
	saved := *s
	saved.SavedAt = k.now().UTC()
	data, err := encode(&saved)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	return k.call(ctx, func() error {
		return k.backend.Set(KeyringService, k.account, string(data))
	})
}

// Delete removes the keyring entry; a missing entry is not an error.
func (k *Keyring) Delete(ctx context.Context) error {
	err := k.call(ctx, func() error {
		return k.backend.Delete(KeyringService, k.account)
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// call runs fn with a timeout and maps go-keyring's errors to the store's.
// A call that times out is abandoned: its goroutine finishes whenever the
// provider answers, if ever.
func (k *Keyring) call(ctx context.Context, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
	case <-timer.C:
		return fmt.Errorf("%w: keyring did not answer within %s", ErrUnavailable, k.timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return ErrTooBig
	default:
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
}
