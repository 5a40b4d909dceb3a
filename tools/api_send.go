package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/auth"
)

// MaxResponseBody caps how much of an API answer is read and returned.
const MaxResponseBody = 1 << 20

// response is a raw API answer.
type response struct {
	status    int
	header    http.Header
	body      []byte
	truncated bool
}

// platform calls the Platform API with the Platform API key, or with the
// OAuth session, refreshing and retrying once on a 401.
func (a *api) platform(ctx context.Context, m *masker, method, apiPath string, query url.Values, body []byte) (*response, error) {
	base := a.d.Config.PlatformAPIURL
	if key := a.d.Config.PlatformAPIKey; key != "" {
		return a.send(ctx, m, base, method, apiPath, query, body, key)
	}
	var last *response
	err := a.d.Source.Do(ctx, func(ctx context.Context, token string) error {
		r, err := a.send(ctx, m, base, method, apiPath, query, body, token)
		if err != nil {
			return err
		}
		last = r
		if r.status == http.StatusUnauthorized {
			return &auth.StatusError{Endpoint: "Platform API", Status: r.status}
		}
		return nil
	})
	if err != nil && !(errors.Is(err, auth.ErrUnauthorized) && last != nil) {
		return nil, err
	}
	return last, nil
}

// send makes one request to base with a bearer credential and reads the
// answer up to MaxResponseBody. A redirect is not followed: its 3xx is the
// answer, and nothing goes to its Location. m learns the credential, so
// that an answer echoing it is masked.
func (a *api) send(ctx context.Context, m *masker, base, method, apiPath string, query url.Values, body []byte, bearer string) (*response, error) {
	m.addSecret(bearer)
	u, err := RequestURL(base, apiPath, query)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, envelope.InvalidInput("cannot build the request: " + err.Error())
	}
	for k, v := range requestHeaders(bearer, body != nil) {
		req.Header.Set(k, v)
	}
	resp, err := a.http.Do(req)
	if re := (*auth.RedirectError)(nil); errors.As(err, &re) {
		return redirected(resp, re), nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &envelope.Error{Reason: envelope.ReasonNetworkError, Retryable: true,
			Message: fmt.Sprintf("Could not reach Clerk at %s://%s.", u.Scheme, u.Host),
			Remedy:  "Retry in a moment; if it persists, check the network and the API URL configuration.",
			Err:     errors.New(m.string(err.Error()))}
	}
	defer resp.Body.Close()
	data, err := readCapped(resp.Body, resp.ContentLength)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: data}
	if len(data) > MaxResponseBody {
		r.body, r.truncated = data[:MaxResponseBody], true
	} else if err != nil {
		r.truncated = true
	}
	return r, nil
}

// redirected is the answer for a redirect the client refused to follow:
// its status and headers (Location among them). The client has already
// closed the body, which a redirect has no use for.
func redirected(resp *http.Response, re *auth.RedirectError) *response {
	r := &response{status: re.Status, header: http.Header{}}
	if resp != nil {
		r.status, r.header = resp.StatusCode, resp.Header
	} else if re.Location != "" {
		r.header.Set("Location", re.Location)
	}
	return r
}

// readCapped reads at most MaxResponseBody+1 bytes of body into one buffer
// sized from the announced length, so a huge answer costs one allocation
// of the cap and the rest is never read: closing the body drops the
// connection.
func readCapped(body io.Reader, announced int64) ([]byte, error) {
	size := int64(MaxResponseBody + 1)
	if announced >= 0 && announced < size {
		size = announced + 1 // +1 to see EOF without growing
	}
	buf := make([]byte, 0, size)
	lr := io.LimitReader(body, MaxResponseBody+1)
	for {
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			if int64(len(buf)) > MaxResponseBody {
				return buf, nil
			}
			// The server sent more than it announced.
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// requestHeaders are the headers every API request carries; a dry run
// shows them with the credential named instead of bearer.
func requestHeaders(bearer string, hasBody bool) map[string]string {
	h := map[string]string{
		"Authorization": "Bearer " + bearer,
		"Accept":        "application/json",
		"User-Agent":    "clerk-mcp",
	}
	if hasBody {
		h["Content-Type"] = "application/json"
	}
	return h
}
