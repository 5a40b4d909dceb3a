// Package fakeclerk is a stand-in for Clerk's OAuth server, Platform API and
// Backend API, for tests and for `clerk-mcp demo` and `clerk-mcp sandbox`,
// which let a user try clerk-mcp with no Clerk account and no network.
// Its authorize endpoint approves at once. It behaves like the real one where clerk-mcp
// depends on it: PKCE S256 is verified, refresh tokens rotate and a reused
// one is answered with invalid_grant, revoked grants stop working. Faults can
// be injected and every endpoint is counted.
package fakeclerk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ClientID is the public client the fake accepts unless Options say otherwise.
const ClientID = "x7Fzlnxuu5I6UUa4"

// User is the account behind every grant.
type User struct {
	ID    string `json:"sub"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// DefaultUser is the user who logs in.
var DefaultUser = User{ID: "user_2fake", Email: "ada@example.com", Name: "Ada Lovelace"}

// Counts is a snapshot of the fake's counters.
type Counts struct {
	Authorize            int // /oauth/authorize requests
	CodeExchanges        int // successful authorization_code grants
	PKCEFailures         int // code exchanges refused for a wrong verifier
	RefreshAttempts      int // refresh_token grant requests, whatever the outcome
	Refreshes            int // successful refreshes
	InvalidGrants        int // refreshes refused with invalid_grant
	BasicAuth            int // token requests that used HTTP Basic client auth
	Userinfo             int // /oauth/userinfo requests
	Unauthorized         int // 401 answers from userinfo and the APIs
	Revocations          int // /oauth/token/revoke requests
	Platform             int // Platform API requests
	Backend              int // Backend API requests
	DeviceAuthorizations int // device authorization requests
	DevicePolls          int // device_code token requests
	// AbandonedRefreshes counts refresh requests whose client went away
	// before the token was rotated: nothing was spent.
	AbandonedRefreshes int
	// CreatedUsers and DeletedUsers count the Backend API's POST /v1/users
	// and DELETE /v1/users/{user_id} requests that were carried out.
	CreatedUsers, DeletedUsers int
}

type grant struct {
	user    User
	revoked bool
}

type authCode struct {
	grant       *grant
	challenge   string
	redirectURI string
	used        bool
}

type refreshEntry struct {
	grant *grant
	used  bool
}

type accessEntry struct {
	grant   *grant
	expiry  time.Time
	invalid bool // answers 401 even before expiry
}

// Server is a running fake Clerk.
type Server struct {
	*httptest.Server
	signingKey []byte

	mu        sync.Mutex
	counts    Counts
	codes     map[string]*authCode
	refresh   map[string]*refreshEntry
	access    map[string]*accessEntry
	accessTTL time.Duration

	refreshFaults    []Fault
	refreshDelay     time.Duration
	omitExpiresIn    bool
	omitRefreshToken bool
	omitJWTExp       bool
	denyAuthorize    bool
	refreshHook      func(*http.Request)
	rotateHook       func()

	apps        []application
	platformKey string
	backendKeys map[string]int // bearer credential -> Backend API requests
	users       userWrites     // users created and deleted (users.go)
	mux         *http.ServeMux
	handler     atomic.Pointer[http.Handler] // mux, or mux behind Use's wrapper

	device      DeviceOptions
	devices     map[string]*deviceAuth
	devicePolls []time.Time
}

// Handle adds an endpoint to the fake, for tests that need Clerk to answer
// in a particular way (slowly, with a huge body, with broken JSON). Its
// answers are marked as deliberate faults (see WithFaultMarker).
func (s *Server) Handle(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		markFault(r)
		h(w, r)
	})
}

// Use wraps the fake's whole handler with mw, for instance a checker of
// its traffic against Clerk's specs. It may be called while the fake
// serves; later requests go through mw.
func (s *Server) Use(mw func(http.Handler) http.Handler) {
	h := mw(s.mux)
	s.handler.Store(&h)
}

type faultMarkerKey struct{}

// WithFaultMarker returns a context carrying mark, which the fake calls
// when it answers the request against Clerk's published API on purpose:
// an injected fault, an omitted field, a handler a test installed with
// Handle. A spec checker passes it with each request to skip those answers.
func WithFaultMarker(ctx context.Context, mark func()) context.Context {
	return context.WithValue(ctx, faultMarkerKey{}, mark)
}

func markFault(r *http.Request) {
	if mark, ok := r.Context().Value(faultMarkerKey{}).(func()); ok {
		mark()
	}
}

type application struct {
	ID        string
	Name      string
	Instances []instance
}

type instance struct {
	ID             string
	Environment    string // "development" or "production"
	PublishableKey string
	SecretKey      string
}

// New starts a fake Clerk on 127.0.0.1. It is closed when the test ends.
func New(t interface{ Cleanup(func()) }) *Server {
	s := NewUnstarted()
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// NewOn starts a fake Clerk listening on addr ("127.0.0.1:0" for any
// port). The caller closes it.
func NewOn(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := NewUnstarted()
	s.Listener.Close()
	s.Listener = ln
	s.Start()
	return s, nil
}

// NewUnstarted returns a fake that is not yet listening.
func NewUnstarted() *Server {
	key := make([]byte, 32)
	rand.Read(key)
	s := &Server{
		signingKey:  key,
		codes:       map[string]*authCode{},
		refresh:     map[string]*refreshEntry{},
		access:      map[string]*accessEntry{},
		devices:     map[string]*deviceAuth{},
		backendKeys: map[string]int{},
		accessTTL:   time.Hour,
		apps: []application{{
			ID:   "app_fake1",
			Name: "Fake App",
			Instances: []instance{
				{ID: "ins_dev1", Environment: "development", SecretKey: "sk_test_" + randomToken(16),
					PublishableKey: "pk_test_" + base64.StdEncoding.EncodeToString([]byte("fake-app-1.clerk.accounts.dev$"))},
				{ID: "ins_prod1", Environment: "production", SecretKey: "sk_live_" + randomToken(16),
					PublishableKey: "pk_live_" + base64.StdEncoding.EncodeToString([]byte("clerk.fake-app.example$"))},
			},
		}},
		platformKey: "ak_test_" + randomToken(12),
	}
	mux := http.NewServeMux()
	s.mux = mux
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.metadata)
	mux.HandleFunc("POST /oauth/device_authorization", s.deviceAuthorization)
	mux.HandleFunc("GET /oauth/device", s.devicePage)
	mux.HandleFunc("GET /oauth/authorize", s.authorize)
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("GET /oauth/userinfo", s.userinfo)
	mux.HandleFunc("POST /oauth/token/revoke", s.revoke)
	mux.HandleFunc("GET /v1/platform/applications", s.listApplications)
	mux.HandleFunc("GET /v1/platform/applications/{id}", s.getApplication)
	mux.HandleFunc("GET /v1/users", s.listUsers)
	mux.HandleFunc("POST /v1/users", s.createUser)
	mux.HandleFunc("DELETE /v1/users/{user_id}", s.deleteUser)
	var h http.Handler = mux
	s.handler.Store(&h)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*s.handler.Load()).ServeHTTP(w, r)
	}))
	return s
}

// Counts returns a snapshot of the counters.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// SetAccessTTL sets the lifetime of access tokens issued from now on.
func (s *Server) SetAccessTTL(d time.Duration) {
	s.mu.Lock()
	s.accessTTL = d
	s.mu.Unlock()
}

// Fault is a raw answer the token endpoint gives to a refresh instead of
// a token, without spending the refresh token.
type Fault struct {
	Status      int
	ContentType string // default application/json
	Body        string // default an OAuth temporarily_unavailable error
}

// FailRefreshes makes the next len(statuses) refresh requests fail with
// those HTTP statuses (for example 503 or 429) without spending the token.
func (s *Server) FailRefreshes(statuses ...int) {
	for _, st := range statuses {
		s.FailRefreshesWith(Fault{Status: st})
	}
}

// FailRefreshesWith makes the next len(faults) refresh requests get those
// answers: HTML error pages, bodies that are not JSON, and so on.
func (s *Server) FailRefreshesWith(faults ...Fault) {
	s.mu.Lock()
	s.refreshFaults = append(s.refreshFaults, faults...)
	s.mu.Unlock()
}

// SetRefreshDelay delays every refresh answer by d, after the old refresh
// token has been spent: a client that gives up during the delay loses the
// rotated token, as it would against Clerk.
func (s *Server) SetRefreshDelay(d time.Duration) {
	s.mu.Lock()
	s.refreshDelay = d
	s.mu.Unlock()
}

// OnRotate sets a function called in every successful refresh right after
// the old refresh token was spent and before the answer is sent: the
// window in which a client that dies loses the session.
func (s *Server) OnRotate(hook func()) {
	s.mu.Lock()
	s.rotateHook = hook
	s.mu.Unlock()
}

// OnRefresh sets a function called at the start of every refresh request,
// before the token is checked. Tests use it to act in the middle of a
// refresh.
func (s *Server) OnRefresh(hook func(r *http.Request)) {
	s.mu.Lock()
	s.refreshHook = hook
	s.mu.Unlock()
}

// TokenResponseOptions shape the token endpoint's answers.
type TokenResponseOptions struct {
	OmitExpiresIn    bool // no expires_in field
	OmitRefreshToken bool // no refresh_token field on refresh (no rotation)
	OmitJWTExp       bool // access token JWT without exp
}

// SetTokenResponse changes the shape of future token responses.
func (s *Server) SetTokenResponse(o TokenResponseOptions) {
	s.mu.Lock()
	s.omitExpiresIn = o.OmitExpiresIn
	s.omitRefreshToken = o.OmitRefreshToken
	s.omitJWTExp = o.OmitJWTExp
	s.mu.Unlock()
}

// DenyAuthorization makes /oauth/authorize redirect with error=access_denied.
func (s *Server) DenyAuthorization(deny bool) {
	s.mu.Lock()
	s.denyAuthorize = deny
	s.mu.Unlock()
}

// InvalidateAccessTokens makes every access token issued so far answer 401,
// as if Clerk had rotated its keys. Refresh tokens keep working.
func (s *Server) InvalidateAccessTokens() {
	s.mu.Lock()
	for _, a := range s.access {
		a.invalid = true
	}
	s.mu.Unlock()
}

// RevokeAll revokes every grant: access and refresh tokens stop working.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	for _, r := range s.refresh {
		r.grant.revoked = true
	}
	s.mu.Unlock()
}

// PlatformAPIKey returns an ak_ key the Platform API accepts.
func (s *Server) PlatformAPIKey() string { return s.platformKey }

// SecretKey returns the sk_ key of the fake application's instance in env
// ("development" or "production").
func (s *Server) SecretKey(env string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.apps[0].Instances {
		if in.Environment == env {
			return in.SecretKey
		}
	}
	return ""
}

// RotateSecretKey gives the fake application's instance in env a new sk_
// key and returns it. The Backend API refuses the old one from now on, as
// Clerk does after a key is rolled in the dashboard.
func (s *Server) RotateSecretKey(env string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, in := range s.apps[0].Instances {
		if in.Environment == env {
			prefix, _, _ := strings.Cut(strings.TrimPrefix(in.SecretKey, "sk_"), "_")
			key := "sk_" + prefix + "_" + randomToken(16)
			s.apps[0].Instances[i].SecretKey = key
			return key
		}
	}
	return ""
}

// BackendRequestsWith returns how many Backend API requests carried key as
// their bearer credential, accepted or not.
func (s *Server) BackendRequestsWith(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.backendKeys[key]
}

// ApplicationID returns the id of the fake application.
func (s *Server) ApplicationID() string { return s.apps[0].ID }

// TokenResponse is the token endpoint's JSON answer.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// Mint creates a grant for DefaultUser directly, as if a login had happened,
// and returns its tokens.
func (s *Server) Mint() TokenResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(&grant{user: DefaultUser}, true)
}

// RefreshTokenValid reports whether rt would be accepted by a refresh now.
func (s *Server) RefreshTokenValid(rt string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refresh[rt]
	return ok && !r.used && !r.grant.revoked
}

func (s *Server) issueLocked(g *grant, withRefresh bool) TokenResponse {
	now := time.Now()
	exp := now.Add(s.accessTTL)
	claims := jwt.MapClaims{
		"iss": s.URL,
		"sub": g.user.ID,
		"iat": now.Unix(),
		"jti": randomToken(8),
	}
	if !s.omitJWTExp {
		claims["exp"] = exp.Unix()
	}
	at, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.signingKey)
	if err != nil {
		panic(err)
	}
	s.access[at] = &accessEntry{grant: g, expiry: exp}
	resp := TokenResponse{AccessToken: at, TokenType: "Bearer", Scope: "profile email"}
	if !s.omitExpiresIn {
		resp.ExpiresIn = int64(s.accessTTL / time.Second)
		if resp.ExpiresIn == 0 {
			resp.ExpiresIn = 1
		}
	}
	if withRefresh {
		rt := "rt_" + randomToken(24)
		s.refresh[rt] = &refreshEntry{grant: g}
		resp.RefreshToken = rt
	}
	return resp
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.counts.Authorize++
	deny := s.denyAuthorize
	s.mu.Unlock()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Path != "/callback" {
		http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("client_id") != ClientID || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "invalid authorization request", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	if deny {
		back.Set("error", "access_denied")
		back.Set("error_description", "The user denied the request")
	} else {
		code := "code_" + randomToken(16)
		s.mu.Lock()
		s.codes[code] = &authCode{
			grant:       &grant{user: DefaultUser},
			challenge:   q.Get("code_challenge"),
			redirectURI: q.Get("redirect_uri"),
		}
		s.mu.Unlock()
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if _, _, ok := r.BasicAuth(); ok {
		// A public client sends its id in the body (AuthStyleInParams); a
		// client that tries Basic auth is counted so tests can catch it.
		s.mu.Lock()
		s.counts.BasicAuth++
		s.mu.Unlock()
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostForm.Get("client_id") != ClientID {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		s.exchangeCode(w, r)
	case "refresh_token":
		s.refreshToken(w, r)
	case DeviceGrantType:
		s.deviceToken(w, r)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
	}
}

func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[r.PostForm.Get("code")]
	if !ok || c.used || c.redirectURI != r.PostForm.Get("redirect_uri") {
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	c.used = true
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
		s.counts.PKCEFailures++
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	s.counts.CodeExchanges++
	s.markOmissions(r)
	writeJSON(w, http.StatusOK, s.issueLocked(c.grant, true))
}

// markOmissions marks a token answer that leaves out fields on purpose
// (SetTokenResponse). Called with s.mu held.
func (s *Server) markOmissions(r *http.Request) {
	if s.omitExpiresIn || s.omitRefreshToken || s.omitJWTExp {
		markFault(r)
	}
}

func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hook := s.refreshHook
	s.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	s.mu.Lock()
	s.counts.RefreshAttempts++
	if r.Context().Err() != nil {
		// The client went away before Clerk acted on the request.
		s.counts.AbandonedRefreshes++
		s.mu.Unlock()
		return
	}
	if len(s.refreshFaults) > 0 {
		f := s.refreshFaults[0]
		s.refreshFaults = s.refreshFaults[1:]
		s.mu.Unlock()
		markFault(r)
		writeFault(w, f)
		return
	}
	rt := r.PostForm.Get("refresh_token")
	entry, ok := s.refresh[rt]
	if !ok || entry.used || entry.grant.revoked {
		s.counts.InvalidGrants++
		s.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	entry.used = true
	delay := s.refreshDelay
	s.markOmissions(r)
	resp := s.issueLocked(entry.grant, !s.omitRefreshToken)
	if s.omitRefreshToken {
		// Without rotation the old refresh token stays valid.
		entry.used = false
	}
	s.counts.Refreshes++
	rotated := s.rotateHook
	s.mu.Unlock()
	if rotated != nil {
		rotated()
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	tok := r.PostForm.Get("token")
	s.mu.Lock()
	s.counts.Revocations++
	if e, ok := s.refresh[tok]; ok {
		e.grant.revoked = true
	}
	if e, ok := s.access[tok]; ok {
		e.grant.revoked = true
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// bearerUser returns the user behind a valid OAuth access token in r.
func (s *Server) bearerUser(r *http.Request) (User, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return User{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.access[tok]
	if !ok || a.invalid || a.grant.revoked || time.Now().After(a.expiry) {
		s.counts.Unauthorized++
		return User{}, false
	}
	return a.grant.user, true
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counts.Userinfo++
	s.mu.Unlock()
	u, ok := s.bearerUser(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		clerkError(w, http.StatusUnauthorized, "authentication_invalid", "The access token is invalid or expired")
		return
	}
	given, family, _ := strings.Cut(u.Name, " ")
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "oauth_user_info", "instance_id": "ins_dev1",
		"sub": u.ID, "user_id": u.ID, "email": u.Email, "email_verified": true,
		"name": u.Name, "given_name": given, "family_name": family,
	})
}

// platformAuth accepts an OAuth access token or the Platform API key.
func (s *Server) platformAuth(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.counts.Platform++
	s.mu.Unlock()
	if r.Header.Get("Authorization") == "Bearer "+s.platformKey {
		return true
	}
	if _, ok := s.bearerUser(r); ok {
		return true
	}
	s.mu.Lock()
	s.counts.Unauthorized++
	s.mu.Unlock()
	clerkError(w, http.StatusUnauthorized, "authentication_invalid", "Unauthorized request")
	return false
}

// applicationJSON is one application as the Platform API answers it
// (PlatformApplicationResponse in Clerk's Platform API spec).
type applicationJSON struct {
	ApplicationID string         `json:"application_id"`
	Name          string         `json:"name"`
	Instances     []instanceJSON `json:"instances"`
}

// instanceJSON is one instance of an application as the Platform API
// answers it (PlatformApplicationInstance): the secret key only when the
// request asked for include_secret_keys.
type instanceJSON struct {
	InstanceID      string `json:"instance_id"`
	EnvironmentType string `json:"environment_type"`
	PublishableKey  string `json:"publishable_key,omitempty"`
	SecretKey       string `json:"secret_key,omitempty"`
}

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) {
	if !s.platformAuth(w, r) {
		return
	}
	secrets, ok := includeSecretKeys(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	out := []applicationJSON{}
	for _, a := range s.apps {
		out = append(out, a.json(secrets))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) {
	if !s.platformAuth(w, r) {
		return
	}
	secrets, ok := includeSecretKeys(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	for _, a := range s.apps {
		if a.ID == r.PathValue("id") {
			out := a.json(secrets)
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	s.mu.Unlock()
	clerkError(w, http.StatusNotFound, "resource_not_found", "Application not found")
}

// includeSecretKeys reads the boolean include_secret_keys query parameter,
// answering 400 when it is not a boolean.
func includeSecretKeys(w http.ResponseWriter, r *http.Request) (include, ok bool) {
	v := r.URL.Query().Get("include_secret_keys")
	if v == "" {
		return false, true
	}
	include, err := strconv.ParseBool(v)
	if err != nil {
		clerkError(w, http.StatusBadRequest, "form_param_format_invalid", "include_secret_keys must be a boolean")
		return false, false
	}
	return include, true
}

func (a application) json(secrets bool) applicationJSON {
	out := applicationJSON{ApplicationID: a.ID, Name: a.Name, Instances: []instanceJSON{}}
	for _, in := range a.Instances {
		j := instanceJSON{InstanceID: in.ID, EnvironmentType: in.Environment, PublishableKey: in.PublishableKey}
		if secrets {
			j.SecretKey = in.SecretKey
		}
		out.Instances = append(out.Instances, j)
	}
	return out
}

// BackendAuth checks a Backend API request's secret key, answering 401
// when it is not one of the fake application's keys, and counts the
// request. Handlers added with Handle use it to act as Backend endpoints.
func (s *Server) BackendAuth(w http.ResponseWriter, r *http.Request) bool {
	key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	s.counts.Backend++
	s.backendKeys[key]++
	for _, in := range s.apps[0].Instances {
		if key != "" && key == in.SecretKey {
			s.mu.Unlock()
			return true
		}
	}
	s.counts.Unauthorized++
	s.mu.Unlock()
	clerkError(w, http.StatusUnauthorized, "authentication_invalid", "The secret key is invalid")
	return false
}

// UserCount is how many users the fake's Backend API lists: DefaultUser
// and generated ones, enough for a full page at the largest limit.
const UserCount = 500

// The paging of GET /v1/users, as Clerk's LimitParameter and
// OffsetParameter define it.
const (
	defaultUserLimit = 10
	maxUserLimit     = 500
)

// listUsers answers GET /v1/users: one page of UserCount users, newest
// first (Clerk's default order_by, -created_at), honouring limit and
// offset. Every user is a spec-valid User; only ids, names, emails and
// times differ.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	if !s.BackendAuth(w, r) {
		return
	}
	q := r.URL.Query()
	limit, offset := defaultUserLimit, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxUserLimit {
			clerkError(w, http.StatusUnprocessableEntity, "form_param_value_invalid", "limit must be between 1 and 500")
			return
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			clerkError(w, http.StatusUnprocessableEntity, "form_param_value_invalid", "offset must be 0 or more")
			return
		}
		offset = n
	}
	now := time.Now()
	users := []map[string]any{}
	for i := offset; i < min(offset+limit, UserCount); i++ {
		users = append(users, userJSON(ListedUser(i), now.Add(-time.Duration(i)*time.Minute)))
	}
	writeJSON(w, http.StatusOK, users)
}

// ListedUser is the i-th user of GET /v1/users: DefaultUser first, then
// generated users with distinct ids, names and emails.
func ListedUser(i int) User {
	if i == 0 {
		return DefaultUser
	}
	given := []string{"Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances", "John"}[i%8]
	family := []string{"Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus"}[(i/8)%8]
	return User{
		ID:    fmt.Sprintf("user_2gen%04d", i),
		Email: fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(given), strings.ToLower(family), i),
		Name:  given + " " + family,
	}
}

// userJSON is a Backend API User object as the spec's User schema has it:
// every required field, with the values of a fresh email-only account.
func userJSON(u User, created time.Time) map[string]any {
	ms := created.UnixMilli()
	given, family, _ := strings.Cut(u.Name, " ")
	emailID := "idn_" + strings.TrimPrefix(u.ID, "user_")
	return map[string]any{
		"object": "user", "id": u.ID, "external_id": nil,
		"primary_email_address_id": emailID, "primary_phone_number_id": nil, "primary_web3_wallet_id": nil,
		"username": nil, "first_name": given, "last_name": family,
		"image_url": "https://img.clerk.com/default", "has_image": false,
		"public_metadata": map[string]any{}, "private_metadata": map[string]any{}, "unsafe_metadata": map[string]any{},
		"email_addresses": []map[string]any{{
			"id": emailID, "object": "email_address", "email_address": u.Email, "reserved": false,
			"verification": map[string]any{"object": "verification_otp", "status": "verified", "strategy": "email_code",
				"attempts": 1, "expire_at": ms + 600_000},
			"linked_to": []any{}, "created_at": ms, "updated_at": ms,
		}},
		"phone_numbers": []any{}, "web3_wallets": []any{}, "passkeys": []any{}, "external_accounts": []any{},
		"saml_accounts": []any{}, "enterprise_accounts": []any{},
		"password_enabled": false, "two_factor_enabled": false, "totp_enabled": false, "backup_code_enabled": false,
		"mfa_enabled_at": nil, "mfa_disabled_at": nil,
		"banned": false, "locked": false, "lockout_expires_in_seconds": nil, "verification_attempts_remaining": 100,
		"last_sign_in_at": nil, "last_active_at": nil, "legal_accepted_at": nil,
		"delete_self_enabled": true, "create_organization_enabled": true,
		"created_at": ms, "updated_at": ms,
	}
}

func writeFault(w http.ResponseWriter, f Fault) {
	if f.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	if f.ContentType == "" && f.Body == "" {
		writeJSON(w, f.Status, map[string]string{"error": "temporarily_unavailable"})
		return
	}
	ct := f.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(f.Status)
	io.WriteString(w, f.Body)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": code})
}

func clerkError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Clerk-Trace-Id", "trace_"+randomToken(6))
	writeJSON(w, status, map[string]any{
		"errors":         []map[string]string{{"code": code, "message": msg, "long_message": msg}},
		"clerk_trace_id": "trace_" + randomToken(6),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
