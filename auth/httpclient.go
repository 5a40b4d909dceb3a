package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
)

// ErrRedirect matches any error for a request that was answered with a
// redirect clerk-mcp refused to follow.
var ErrRedirect = errors.New("redirect refused")

// RedirectError is a 3xx answer that NoRedirectClient refused to follow.
// Nothing was sent to Location.
type RedirectError struct {
	Status   int    // the 3xx status of the answer
	Location string // where it pointed, cleaned for display
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("redirected (%d) to %s; not followed, so nothing was re-sent", e.Status, e.Location)
}

// Is makes a RedirectError match ErrRedirect.
func (e *RedirectError) Is(target error) bool { return target == ErrRedirect }

// NoRedirectClient returns a copy of c that never follows a redirect: the
// first 3xx ends the request with a *RedirectError (wrapped in a
// *url.Error), and nothing is re-sent. A nil c means a new client with
// DefaultHTTPTimeout. c itself is not modified.
//
// Every client that carries a credential (a bearer token, a refresh token,
// a secret key, a device code) must be built with it. Go's http.Client
// follows redirects by default: it re-sends Authorization to the same host
// on any port or scheme, and a 307 or 308 re-posts the body (a refresh
// token) to any host. A genuine Clerk endpoint does not redirect these
// calls, so refusing costs nothing and closes the leak.
func NoRedirectClient(c *http.Client) *http.Client {
	var nc http.Client
	if c != nil {
		nc = *c
	} else {
		nc.Timeout = DefaultHTTPTimeout
	}
	nc.CheckRedirect = refuseRedirect
	return &nc
}

func refuseRedirect(req *http.Request, via []*http.Request) error {
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	return &RedirectError{Status: status, Location: redirectTarget(req.URL)}
}

// maxLocation bounds how much of a redirect target goes into a message.
const maxLocation = 200

// redirectTarget names where a redirect pointed, for a message: scheme,
// host and path only (a query may carry anything the server chose), cleaned
// of control characters and cut to maxLocation bytes.
func redirectTarget(u *url.URL) string {
	t := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	return safetext.Line(t, maxLocation)
}
