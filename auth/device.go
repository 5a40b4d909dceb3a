package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
	"github.com/clerk-mcp/clerk-mcp/store"
	"golang.org/x/oauth2"
)

// Metadata is the part of the OAuth server's metadata (RFC 8414,
// /.well-known/oauth-authorization-server) clerk-mcp uses.
type Metadata struct {
	Issuer                      string `json:"issuer"`
	TokenEndpoint               string `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint"`
}

// ErrNoDeviceFlow reports an OAuth server that does not offer the device
// authorization grant.
var ErrNoDeviceFlow = errors.New("the OAuth server does not offer device login (no device_authorization_endpoint in its metadata)")

// Metadata fetches the OAuth server's metadata.
func (c *Client) Metadata(ctx context.Context) (*Metadata, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, requestError("fetch OAuth metadata", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch OAuth metadata: %w", &StatusError{Endpoint: "OAuth metadata", Status: resp.StatusCode})
	}
	var m Metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&m); err != nil {
		return nil, fmt.Errorf("fetch OAuth metadata: %w", err)
	}
	return &m, nil
}

// maxURL bounds how much of a server-supplied address is shown.
const maxURL = 2048

// displayURL makes an address from the network fit to print: no control
// characters, bounded length.
func displayURL(u string) string { return safetext.Line(u, maxURL) }

// deviceEndpoint returns the device authorization endpoint, if the server
// offers one on its own origin: metadata must not send the client id, or
// the user, anywhere else.
func (c *Client) deviceEndpoint(ctx context.Context) (string, error) {
	m, err := c.Metadata(ctx)
	if err != nil {
		return "", err
	}
	if m.DeviceAuthorizationEndpoint == "" {
		return "", ErrNoDeviceFlow
	}
	base, _ := url.Parse(c.cfg.BaseURL)
	dev, err := url.Parse(m.DeviceAuthorizationEndpoint)
	if err != nil || dev.Scheme != base.Scheme || dev.Host != base.Host {
		return "", fmt.Errorf("the device endpoint %q is not on %s; refusing it", displayURL(m.DeviceAuthorizationEndpoint), c.cfg.BaseURL)
	}
	return m.DeviceAuthorizationEndpoint, nil
}

// LoginDevice runs the device authorization grant (RFC 8628): it asks Clerk
// for a user code, shows it with the verification URL, and polls the token
// endpoint at the server's interval (slower after slow_down) until the user
// approves, denies, or the code expires. Then it stores the session as
// Login does.
func LoginDevice(ctx context.Context, client *Client, st SessionStore, opts LoginOptions) (*LoginResult, error) {
	opts.defaults()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	endpoint, err := client.deviceEndpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("login --device: %w", err)
	}
	conf := client.cfg.oauth2Config("")
	conf.Endpoint.DeviceAuthURL = endpoint
	da, err := conf.DeviceAuth(client.oauthContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("login --device: %w", describeTokenError(err))
	}
	// The code and addresses are the server's words, shown on the user's
	// terminal: clean them.
	fmt.Fprintf(opts.Out, "To log in to Clerk, open\n\n  %s\n\nand enter the code\n\n  %s\n\n",
		displayURL(da.VerificationURI), safetext.Clean(da.UserCode))
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(opts.Out, "or open this address, which has the code filled in:\n\n  %s\n\n", displayURL(da.VerificationURIComplete))
	}
	deadline, _ := ctx.Deadline()
	if !da.Expiry.IsZero() && da.Expiry.Before(deadline) {
		deadline = da.Expiry
	}
	wait := opts.waiter("Waiting for you to approve in the browser", deadline)
	defer wait.stop()

	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second // RFC 8628 §3.2
	}
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("login --device timed out after %s waiting for the code to be approved", opts.Timeout)
			}
			return nil, fmt.Errorf("login cancelled: %w", ctx.Err())
		case <-time.After(interval * opts.pollUnit / time.Second):
		}
		sess, code, err := client.pollDevice(ctx, da.DeviceCode)
		switch code {
		case "":
			if err != nil {
				return nil, fmt.Errorf("login --device: %w", err)
			}
			wait.stop()
			return finishLogin(ctx, client, st, sess)
		case "authorization_pending", errTransient:
			// Keep polling: the user may be halfway through approving, and
			// a blip at Clerk should not make them start over.
		case "slow_down":
			interval += 5 * time.Second // RFC 8628 §3.5
		case "access_denied":
			return nil, errors.New("login --device: the request was denied in the browser")
		case "expired_token":
			return nil, errors.New("login --device: the code expired before it was approved")
		default:
			return nil, fmt.Errorf("login --device: Clerk answered %s", displayCode(code))
		}
	}
}

// errTransient is pollDevice's code for a poll that failed in a way worth
// retrying: a network error, a 5xx or a 429.
const errTransient = "transient"

// pollDevice makes one device_code token request. It returns the session,
// or the OAuth error code ("authorization_pending", "slow_down", ...), or
// an error for anything else.
//
// LoginDevice polls by hand rather than through x/oauth2's
// Config.DeviceAccessToken because that returns at once on a network
// error, a 5xx or a 429, and the login must retry through those until the
// code expires. Calling it again after such an error would restart it at
// the server's first interval, forgetting the slow_down increases it kept
// to itself (RFC 8628 §3.5 wants them for all later polls); its ticker also
// counts real seconds, where the tests scale the interval (pollUnit), and
// it dates the token by time.Now, not the client's clock.
func (c *Client) pollDevice(ctx context.Context, deviceCode string) (sess *store.Session, code string, err error) {
	form := url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {deviceCode},
		"client_id":   {c.cfg.ClientID},
	}
	rctx, cancel := context.WithTimeout(ctx, DefaultHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.cfg.BaseURL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if _, redirected := asRedirect(err); !redirected && ctx.Err() == nil && isNetworkError(err) {
			return nil, errTransient, nil
		}
		// A redirect ends the login at once rather than polling it
		// silently until the timeout.
		return nil, "", requestError("poll the token endpoint", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return nil, errTransient, nil
	}
	var body struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
		Error        string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return nil, "", fmt.Errorf("token endpoint answered %d with an unreadable body", resp.StatusCode)
	}
	if body.Error != "" {
		return nil, body.Error, nil
	}
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return nil, "", &tokenEndpointError{Status: resp.StatusCode}
	}
	tok := &oauth2.Token{AccessToken: body.AccessToken, TokenType: body.TokenType, RefreshToken: body.RefreshToken}
	if body.ExpiresIn > 0 {
		// Dated by time.Now, as x/oauth2 dates the tokens it parses:
		// session moves the lifetime onto the client's clock. Capped as
		// x/oauth2 caps it, so that a huge value cannot wrap.
		tok.Expiry = time.Now().Add(time.Duration(min(body.ExpiresIn, math.MaxInt32)) * time.Second)
	}
	return c.session(tok, ""), "", nil
}
