package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
	"github.com/clerk-mcp/clerk-mcp/store"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// DefaultHTTPTimeout bounds every request clerk-mcp makes to Clerk.
const DefaultHTTPTimeout = 30 * time.Second

// maxOAuthResponse bounds what is read from userinfo and revocation answers.
const maxOAuthResponse = 1 << 20

// Client talks to Clerk's OAuth endpoints: token, userinfo, revocation.
// Every call takes the caller's context and has a timeout.
type Client struct {
	cfg  Config
	http *http.Client
	now  func() time.Time
}

// NewClient returns a client for cfg. A nil httpClient means one with
// DefaultHTTPTimeout. The client uses a copy of httpClient that never
// follows redirects (NoRedirectClient): every call it makes carries a
// token, and no caller should have to remember that.
func NewClient(cfg Config, httpClient *http.Client) *Client {
	return &Client{cfg: cfg, http: NoRedirectClient(httpClient), now: time.Now}
}

// Config returns the configuration the client was built with.
func (c *Client) Config() Config { return c.cfg }

// HTTPClient returns the HTTP client used for all calls to Clerk. It does
// not follow redirects.
func (c *Client) HTTPClient() *http.Client { return c.http }

func (c *Client) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.http)
}

// Exchange redeems an authorization code with its PKCE verifier.
func (c *Client) Exchange(ctx context.Context, code, verifier, redirectURL string) (*store.Session, error) {
	tok, err := c.cfg.oauth2Config(redirectURL).Exchange(c.oauthContext(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange authorization code: %w", describeTokenError(err))
	}
	return c.session(tok, ""), nil
}

// Refresh redeems refreshToken for a new session. Errors are *envelope.Error.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*store.Session, error) {
	// An empty access token makes the token source refresh at once.
	src := c.cfg.oauth2Config("").TokenSource(c.oauthContext(ctx), &oauth2.Token{RefreshToken: refreshToken})
	tok, err := src.Token()
	if err != nil {
		return nil, classifyRefreshError(ctx, err)
	}
	return c.session(tok, refreshToken), nil
}

// session turns a token response into a Session. When the server omits
// expires_in, the expiry comes from the access token's JWT exp claim.
func (c *Client) session(tok *oauth2.Token, previousRefresh string) *store.Session {
	now := c.now().UTC()
	s := &store.Session{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		TokenType:    tok.Type(),
		Expiry:       tok.Expiry.UTC(),
		ObtainedAt:   now,
		Issuer:       c.cfg.BaseURL,
		ClientID:     c.cfg.ClientID,
	}
	if !tok.Expiry.IsZero() {
		// x/oauth2 dates expires_in from time.Now: count the same lifetime
		// from our clock, as ObtainedAt is.
		s.Expiry = now.Add(time.Until(tok.Expiry)).UTC()
	}
	if s.RefreshToken == "" {
		// No rotation: the old refresh token stays valid (RFC 6749 §6).
		s.RefreshToken = previousRefresh
	}
	if previousRefresh == "" {
		// A login, not a refresh: a new identity for what belongs to this
		// login alone (secret keys resolved with it). Refreshes carry it
		// over (Source.lockedRefresh).
		s.LoginID = rand.Text()
	}
	if !s.Expiry.After(now) {
		// No expires_in, or a nonsensical one (zero or negative) that would
		// make every call refresh: fall back to the JWT, else unknown.
		s.Expiry = jwtExpiry(tok.AccessToken, now)
	}
	return s
}

// jwtExpiry is when a JWT access token received at now expires, on our
// clock. exp is on Clerk's clock: with iat, the token's lifetime is added to
// now instead, so a local clock hours off neither refreshes on every call
// nor trusts a token for hours too long.
func jwtExpiry(token string, now time.Time) time.Time {
	claims, ok := ParseJWTClaims(token)
	switch {
	case !ok || claims.Expiry.IsZero():
		return time.Time{}
	case !claims.IssuedAt.IsZero() && claims.Expiry.After(claims.IssuedAt):
		return now.Add(claims.Expiry.Sub(claims.IssuedAt)).UTC()
	case claims.Expiry.After(now):
		return claims.Expiry.UTC()
	default:
		// Already expired on our clock, without iat to tell skew from a
		// bad token: unknown, so Clerk's 401 decides instead of a loop.
		return time.Time{}
	}
}

// JWTClaims are the registered claims clerk-mcp reads from an access token.
type JWTClaims struct {
	IssuedAt time.Time
	Expiry   time.Time
}

// ParseJWTClaims reads iat and exp from a JWT without verifying it: the
// token is opaque to us and only its timing matters. ok is false when the
// token is not a JWT.
func ParseJWTClaims(token string) (claims JWTClaims, ok bool) {
	var rc jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &rc); err != nil {
		return JWTClaims{}, false
	}
	if rc.IssuedAt != nil {
		claims.IssuedAt = rc.IssuedAt.Time
	}
	if rc.ExpiresAt != nil {
		claims.Expiry = rc.ExpiresAt.Time
	}
	return claims, true
}

// tokenEndpointError describes a token endpoint failure without its body,
// which is Clerk's to word and ours to keep out of messages.
type tokenEndpointError struct {
	Status int
	Code   string
}

func (e *tokenEndpointError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("token endpoint answered %d (%s)", e.Status, e.Code)
	}
	return fmt.Sprintf("token endpoint answered %d", e.Status)
}

// maxCode bounds how much of an OAuth error code goes into a message. Real
// codes are a few words of ASCII; a server could send a megabyte.
const maxCode = 64

// displayCode makes an OAuth error code from the network fit for a
// message: one clean line, short.
func displayCode(code string) string { return safetext.Line(code, maxCode) }

func describeTokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return &tokenEndpointError{Status: status, Code: displayCode(re.ErrorCode)}
	}
	if rerr, ok := asRedirect(err); ok {
		return fmt.Errorf("token endpoint %w", rerr)
	}
	return cleanError(err)
}

// errInvalidGrant marks a refresh refused because the refresh token is
// spent, revoked or expired.
var errInvalidGrant = errors.New("invalid_grant")

// classifyRefreshError maps a failed refresh to the reasons of refresh rule
// 6: invalid_grant and other 4xx are session_expired, everything else is a
// retryable refresh_failed.
func classifyRefreshError(ctx context.Context, err error) *envelope.Error {
	if rerr, ok := asRedirect(err); ok {
		// Not Clerk refusing the grant: a captive portal, a proxy or a
		// base URL that is not Clerk's. The refresh token went nowhere
		// else and is still good, so the session is kept and the call can
		// be retried once the network is right.
		return &envelope.Error{
			Reason:    envelope.ReasonRefreshFailed,
			Message:   fmt.Sprintf("Clerk's token endpoint redirected the session refresh (%d) to %s; clerk-mcp does not follow it, so the refresh token was sent nowhere else.", rerr.Status, rerr.Location),
			Remedy:    "Retry later; the session is kept. A redirect usually means a captive portal or proxy on this network, or a CLERK_OAUTH_BASE_URL that is not Clerk's OAuth server; run `clerk-mcp doctor`.",
			Retryable: true,
			Err:       ErrRedirect,
		}
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		te := &tokenEndpointError{Status: re.Response.StatusCode, Code: displayCode(re.ErrorCode)}
		switch {
		case re.ErrorCode == "invalid_grant":
			return errSessionExpired(" or was revoked", fmt.Errorf("%w: %v", errInvalidGrant, te))
		case te.Status == http.StatusTooManyRequests || te.Status >= 500:
			return errRefreshFailed("Clerk could not refresh the session right now.", te)
		case te.Status >= 400:
			return errSessionExpired(" (Clerk refused the refresh)", te)
		}
		return errRefreshFailed("Clerk gave an unexpected answer to a session refresh.", te)
	}
	if ctx.Err() != nil || isNetworkError(err) {
		return errRefreshFailed("Could not reach Clerk to refresh the session.", cleanError(err))
	}
	// Malformed answers (not JSON, no access_token): keep the session.
	return errRefreshFailed("Clerk gave an unreadable answer to a session refresh.", cleanError(err))
}

func isNetworkError(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// maxErrorLine bounds an error message built from a network answer.
const maxErrorLine = 300

// cleanError returns err with a message fit for a terminal or a log line:
// only its first line, where x/oauth2 and others put the description
// before appending response bodies, stripped of control characters and cut
// short. errors.Is and errors.As still see err.
func cleanError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*cleanedError); ok {
		return err
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return &cleanedError{msg: safetext.Line(msg, maxErrorLine), err: err}
}

// cleanedError shows a display-safe message while keeping the original
// error in the chain.
type cleanedError struct {
	msg string
	err error
}

func (e *cleanedError) Error() string { return e.msg }
func (e *cleanedError) Unwrap() error { return e.err }

// asRedirect finds the redirect NoRedirectClient refused, if that is why
// err happened.
func asRedirect(err error) (*RedirectError, bool) {
	var re *RedirectError
	ok := errors.As(err, &re)
	return re, ok
}

// requestError describes a failed call to endpoint op for a message. A
// refused redirect is named as such, without the *url.Error around it,
// which would repeat the whole redirect target.
func requestError(op string, err error) error {
	if re, ok := asRedirect(err); ok {
		return fmt.Errorf("%s: %w", op, re)
	}
	return fmt.Errorf("%s: %w", op, cleanError(err))
}

// UserInfo is the subset of /oauth/userinfo clerk-mcp shows. Its fields
// are cleaned of control characters (safetext.Clean).
type UserInfo struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
}

// StatusError is a non-2xx answer from an endpoint that is not the token
// endpoint.
type StatusError struct {
	Endpoint string
	Status   int
}

// ErrUnauthorized matches any error for an HTTP 401 answer: the access
// token was refused. Source.Do refreshes and retries once on it.
var ErrUnauthorized = errors.New("unauthorized")

// Is makes a 401 StatusError match ErrUnauthorized.
func (e *StatusError) Is(target error) bool {
	return target == ErrUnauthorized && e.Status == http.StatusUnauthorized
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered %d %s", e.Endpoint, e.Status, http.StatusText(e.Status))
}

// UserInfo fetches the user behind accessToken.
func (c *Client) UserInfo(ctx context.Context, accessToken string) (*UserInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+"/oauth/userinfo", nil)
	if err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, requestError("userinfo", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOAuthResponse))
	if err != nil {
		return nil, fmt.Errorf("userinfo: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Endpoint: "userinfo", Status: resp.StatusCode}
	}
	var raw struct {
		Sub    string `json:"sub"`
		UserID string `json:"user_id"`
		Email  string `json:"email"`
		Name   string `json:"name"`
		Given  string `json:"given_name"`
		Family string `json:"family_name"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, &envelope.Error{Reason: envelope.ReasonAPIError, Message: "Clerk's userinfo answer is not valid JSON.",
			Remedy: "Retry later; if it persists, check CLERK_OAUTH_BASE_URL with `clerk-mcp doctor`.", Retryable: true, Err: err}
	}
	u := &UserInfo{UserID: raw.UserID, Email: raw.Email, Name: raw.Name}
	if u.UserID == "" {
		u.UserID = raw.Sub
	}
	if u.Name == "" {
		u.Name = raw.Given + " " + raw.Family
	}
	// These go to terminals and tool results as they are: clean them once,
	// here, rather than trust every caller to.
	u.UserID = safetext.Clean(u.UserID)
	u.Email = safetext.Clean(u.Email)
	u.Name = strings.TrimSpace(safetext.Clean(u.Name))
	return u, nil
}

// Revoke revokes token at Clerk (RFC 7009). hint is "refresh_token" or
// "access_token".
func (c *Client) Revoke(ctx context.Context, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}, "client_id": {c.cfg.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/oauth/token/revoke", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return requestError("revoke token", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxOAuthResponse))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revoke token: %w", &StatusError{Endpoint: "revocation", Status: resp.StatusCode})
	}
	return nil
}
