// Package store persists clerk-mcp sessions: in the OS keyring, in a file, or
// in the keyring with a file fallback, and provides the cross-process lock
// that serializes refreshes.
//
// The store knows nothing of OAuth beyond the Session value it keeps.
package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Session is what a login leaves behind: the token endpoint's answer plus the
// issuer and client it belongs to.
type Session struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	// ObtainedAt is when the access token was issued to us; with Expiry it
	// gives the token's lifetime, which bounds the refresh leeway.
	ObtainedAt time.Time `json:"obtained_at,omitzero"`
	Issuer     string    `json:"issuer"`
	ClientID   string    `json:"client_id"`
	// LoginID is a random id given to the session by the login that
	// created it and kept by every refresh: it tells "the same login,
	// refreshed" from "a new login" without comparing tokens, which rotate.
	// Sessions stored before it existed have none.
	LoginID string `json:"login_id,omitempty"`
	// Profile is the profile the session was stored under, stamped by
	// the store on every save; sessions stored before profiles existed
	// have none and belong to DefaultProfile.
	Profile string `json:"profile,omitempty"`
	// SavedAt is stamped by the store on every save. When two backends both
	// hold a session, the newer one wins.
	SavedAt time.Time `json:"saved_at,omitzero"`
}

// ErrNotFound reports that no session is stored.
var ErrNotFound = errors.New("no session stored")

// ErrUnavailable reports that a backend cannot be used at all (no keyring
// service, a keyring that does not answer, an unwritable directory).
var ErrUnavailable = errors.New("session store unavailable")

// CorruptError reports a stored session that cannot be decoded or is not
// safe to read. It names where the session lives so the user can fix it.
type CorruptError struct {
	Location string
	Err      error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("session at %s is unreadable: %v", e.Location, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Key identifies the session of one OAuth issuer and client, so that a
// staging or local session never overwrites the production one.
func Key(issuer, clientID string) string {
	sum := sha256.Sum256([]byte(issuer + "\x00" + clientID))
	return hex.EncodeToString(sum[:8])
}

func encode(s *Session) ([]byte, error) {
	return json.Marshal(s)
}

func decode(data []byte, location string) (*Session, error) {
	var s Session
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, &CorruptError{Location: location, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	if s.AccessToken == "" {
		return nil, &CorruptError{Location: location, Err: errors.New("no access token")}
	}
	return &s, nil
}
