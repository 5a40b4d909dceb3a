package fakeclerk

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// DeviceGrantType is the token request grant_type of RFC 8628.
const DeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// deviceAuth is one pending device authorization.
type deviceAuth struct {
	userCode string
	expires  time.Time
	state    string // "pending", "approved", "denied", "used"
	slowDown int    // slow_down answers still to give
}

// DeviceOptions shape the device flow.
type DeviceOptions struct {
	// Disabled leaves the device endpoint out of the metadata.
	Disabled bool
	// Interval is the polling interval the fake announces, in seconds.
	Interval int
	// ExpiresIn is the device code's lifetime; zero means 10 minutes.
	ExpiresIn time.Duration
	// SlowDown answers slow_down to the first polls of every code.
	SlowDown int
	// AutoApprove approves every code as soon as it is issued, as a user
	// who already has the page open would (the demo uses it).
	AutoApprove bool
}

// SetDeviceOptions configures the device flow for codes issued from now on.
func (s *Server) SetDeviceOptions(o DeviceOptions) {
	s.mu.Lock()
	s.device = o
	s.mu.Unlock()
}

// ApproveDevice approves the device authorization with userCode, as the
// user would on the verification page. It reports whether the code exists.
func (s *Server) ApproveDevice(userCode string) bool { return s.decideDevice(userCode, "approved") }

// DenyDevice refuses it.
func (s *Server) DenyDevice(userCode string) bool { return s.decideDevice(userCode, "denied") }

func (s *Server) decideDevice(userCode, state string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.devices {
		if d.userCode == userCode && d.state == "pending" {
			d.state = state
			return true
		}
	}
	return false
}

// DevicePollTimes returns when each device_code token request arrived.
func (s *Server) DevicePollTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.devicePolls...)
}

// devicePage is the verification page: like the rest of the sandbox it
// approves at once, here the user code it is given.
func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("user_code")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if code == "" || !s.ApproveDevice(code) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "<!doctype html><title>Unknown code</title><p>Unknown or used code.</p>")
		return
	}
	io.WriteString(w, "<!doctype html><title>Approved</title><p>Device approved. You can close this window.</p>")
}

// metadata is RFC 8414 authorization server metadata.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	disabled := s.device.Disabled
	s.mu.Unlock()
	// Clerk's metadata (WellKnown.OAuth2AuthorizationServerMetadata in
	// the Frontend API spec), whose schema admits no other member.
	m := map[string]any{
		"issuer":                                s.URL,
		"authorization_endpoint":                s.URL + "/oauth/authorize",
		"token_endpoint":                        s.URL + "/oauth/token",
		"revocation_endpoint":                   s.URL + "/oauth/token/revoke",
		"jwks_uri":                              s.URL + "/.well-known/jwks.json",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"scopes_supported":                      []string{"openid", "profile", "email", "public_metadata", "private_metadata"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"sub", "email", "email_verified", "name", "given_name", "family_name"},
		"code_challenge_methods_supported":      []string{"S256"},
	}
	if !disabled {
		// Clerk offers no device grant; this is the RFC 8628 issuer the
		// fake plays for `login --device`, off Clerk's spec on purpose.
		markFault(r)
		m["device_authorization_endpoint"] = s.URL + "/oauth/device_authorization"
		m["grant_types_supported"] = []string{"authorization_code", "refresh_token", DeviceGrantType}
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") != ClientID {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.device.Disabled {
		http.NotFound(w, r)
		return
	}
	s.counts.DeviceAuthorizations++
	lifetime := s.device.ExpiresIn
	if lifetime <= 0 {
		lifetime = 10 * time.Minute
	}
	interval := s.device.Interval
	if interval <= 0 {
		interval = 5
	}
	code := "dc_" + randomToken(16)
	user := strings.ToUpper(randomToken(2) + "-" + randomToken(2))
	d := &deviceAuth{userCode: user, expires: time.Now().Add(lifetime), state: "pending", slowDown: s.device.SlowDown}
	if s.device.AutoApprove {
		d.state = "approved"
	}
	s.devices[code] = d
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               code,
		"user_code":                 user,
		"verification_uri":          s.URL + "/oauth/device",
		"verification_uri_complete": s.URL + "/oauth/device?user_code=" + user,
		"expires_in":                int(lifetime / time.Second),
		"interval":                  interval,
	})
}

// deviceToken answers a device_code grant (RFC 8628 §3.4-3.5).
func (s *Server) deviceToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.DevicePolls++
	s.devicePolls = append(s.devicePolls, time.Now())
	d, ok := s.devices[r.PostForm.Get("device_code")]
	switch {
	case !ok || d.state == "used":
		oauthError(w, http.StatusBadRequest, "invalid_grant")
	case time.Now().After(d.expires):
		oauthError(w, http.StatusBadRequest, "expired_token")
	case d.slowDown > 0:
		d.slowDown--
		oauthError(w, http.StatusBadRequest, "slow_down")
	case d.state == "pending":
		oauthError(w, http.StatusBadRequest, "authorization_pending")
	case d.state == "denied":
		oauthError(w, http.StatusBadRequest, "access_denied")
	default:
		d.state = "used"
		s.counts.CodeExchanges++
		writeJSON(w, http.StatusOK, s.issueLocked(&grant{user: DefaultUser}, true))
	}
}
