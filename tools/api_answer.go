package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
)

// shownHeaders are the response headers worth showing to an agent.
var shownHeaders = []string{"Content-Type", "X-Clerk-Trace-Id", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Location"}

// result turns an answer into the tool result, or an api_error for
// non-2xx. Credentials are masked in the body and the headers.
func (a *api) result(m *masker, r *response, method, apiPath string) (*APIResult, error) {
	body := bytes.ToValidUTF8(r.body, []byte("\uFFFD"))
	if r.truncated {
		body = m.cutPartial(body)
	}
	body = m.bytes(body)
	res := &APIResult{Status: r.status, Truncated: r.truncated, Headers: map[string]string{}}
	for _, h := range shownHeaders {
		if v := r.header.Get(h); v != "" {
			res.Headers[h] = m.string(v)
		}
	}
	if !r.truncated && jsonDepth(body) <= maxJSONDepth && json.Valid(body) {
		res.Body = body
	} else {
		res.BodyText = string(body)
	}
	if r.status >= 200 && r.status < 300 {
		return res, nil
	}
	return nil, apiError(m, r.status, method, apiPath, body, r.header)
}

// maxLocation bounds the redirect target quoted in an error message.
const maxLocation = 1000

// maxJSONDepth is the deepest nesting returned as parsed JSON. Deeper
// answers come back as body_text: embedded in the tool result, they would
// exceed the nesting limits of clients' JSON decoders (10000 in Go's
// encoding/json) and break the whole response.
const maxJSONDepth = 512

// jsonDepth returns the maximum nesting of arrays and objects in b, without
// validating it.
func jsonDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// apiError describes a non-2xx answer. body must already be masked; what
// Clerk wrote is masked again after decoding and cleaned of control
// characters, since it ends up in an error message and a log line.
func apiError(m *masker, status int, method, apiPath string, body []byte, h http.Header) *Error {
	var parsed struct {
		Errors []struct {
			Message     string `json:"message"`
			LongMessage string `json:"long_message"`
			Code        string `json:"code"`
		} `json:"errors"`
		TraceID string `json:"clerk_trace_id"`
	}
	json.Unmarshal(body, &parsed)
	for i := range parsed.Errors {
		e := &parsed.Errors[i]
		e.Message, e.LongMessage, e.Code = m.clean(e.Message), m.clean(e.LongMessage), m.clean(e.Code)
	}
	e := &Error{
		Reason:  auth.ReasonAPIError,
		Status:  status,
		TraceID: m.clean(parsed.TraceID),
		Message: fmt.Sprintf("Clerk answered %d %s to %s %s.", status, http.StatusText(status), method, apiPath),
	}
	if e.TraceID == "" {
		e.TraceID = m.clean(h.Get("X-Clerk-Trace-Id"))
	}
	if len(parsed.Errors) > 0 {
		raw, _ := json.Marshal(parsed.Errors)
		e.Errors = raw
		msg := parsed.Errors[0].LongMessage
		if msg == "" {
			msg = parsed.Errors[0].Message
		}
		if msg != "" {
			e.Message = strings.TrimSuffix(e.Message, ".") + ": " + msg
		}
	}
	switch {
	case status >= 300 && status < 400:
		loc := m.clean(h.Get("Location"))
		if len(loc) > maxLocation {
			// The server chose it: it goes to the agent as a pointer,
			// not as a page of text.
			loc = strings.ToValidUTF8(loc[:maxLocation], "") + "..."
		}
		if loc == "" {
			loc = "(no Location)"
		}
		e.Message = fmt.Sprintf("Clerk answered %d %s to %s %s, redirecting to %s; clerk-mcp does not follow redirects, so nothing was sent there.",
			status, http.StatusText(status), method, apiPath, loc)
		e.Remedy = "Clerk's APIs do not redirect API calls: ask the user to check CLERK_PLATFORM_API_URL and CLERK_BACKEND_API_URL (normally https://api.clerk.com)."
	case status == http.StatusNotFound:
		e.Remedy = "Check the path and target with the api_endpoints tool (e.g. query \"list users\"): Backend API paths look like /users/{user_id} (target backend), Platform API paths like /applications/{application_id} (target platform). The id may also not exist."
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Remedy = "The credential was refused or lacks access to this resource; check target, application_id and instance, or run `clerk-mcp doctor`."
	case status == http.StatusTooManyRequests || status >= 500:
		e.Retryable = true
		e.Remedy = "Clerk is rate limiting or having trouble; retry after a short wait (see Retry-After)."
	default:
		e.Remedy = "Fix the request according to errors[] and retry."
	}
	return e
}

// clean is m.string for text that reaches an error message: masked, and
// stripped of control characters.
func (m *masker) clean(s string) string { return safetext.Clean(m.string(s)) }
