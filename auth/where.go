package auth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// locate names, on a not_logged_in or session_expired error, the issuer,
// profile and store that were looked in: an editor may start the server
// with another environment than the user's shell, and "not logged in" is
// only actionable once it says where. The remedy names the login command
// for this profile. Other errors pass through. err itself is never
// modified: a refresh's error is shared by every caller that waited on it.
func (s *Source) locate(err error) error {
	var e *envelope.Error
	if !errors.As(err, &e) || e.Issuer != "" ||
		(e.Reason != envelope.ReasonNotLoggedIn && e.Reason != envelope.ReasonSessionExpired) {
		return err
	}
	cfg := s.client.Config()
	profile := cfg.ProfileName()
	if p, ok := s.store.(interface{ Profile() string }); ok {
		profile = p.Profile() // the store is what was looked in
	}
	located := *e
	located.Issuer, located.Profile, located.Store = cfg.BaseURL, profile, s.store.Location()
	located.Message = fmt.Sprintf("%s (issuer %s, profile %q, looked in %s).",
		strings.TrimSuffix(e.Message, "."), located.Issuer, located.Profile, located.Store)
	if e.Remedy == remedyLogin {
		located.Remedy = strings.Replace(remedyLogin, "clerk-mcp login", LoginCommand(profile), 1)
	}
	return &located
}
