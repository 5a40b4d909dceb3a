package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
	"github.com/clerk-mcp/clerk-mcp/tools/catalog"
)

// shownHeaders are the response headers worth showing to an agent.
var shownHeaders = []string{"Content-Type", "X-Clerk-Trace-Id", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Location"}

// result turns an answer into the tool result, or an api_error for
// non-2xx, in three steps: mask credentials in the body and headers,
// apply select to a JSON body (and mask its output again), and fit the
// result to the budget. Masking comes first so that select only ever sees
// masked values.
func (a *api) result(m *masker, r *response, method, apiPath string, sel *selector) (*APIResult, error) {
	body := bytes.ToValidUTF8(r.body, []byte("\uFFFD"))
	if r.truncated {
		body = m.cutPartial(body)
	}
	body = m.bytes(body)
	res := &APIResult{Status: r.status, Headers: map[string]string{}}
	for _, h := range shownHeaders {
		if v := r.header.Get(h); v != "" {
			// Masked before it is cut, so that a cut cannot hide a
			// credential's shape from the masker.
			res.Headers[h] = safetext.Truncate(m.string(v), maxHeaderValue)
		}
	}
	var capped *Cut // what the read cap kept of the answer
	if r.truncated {
		// Cut where clerk-mcp stopped reading: JSON is kept as JSON up to
		// its last complete item, anything else is text.
		if doc, cut, ok := salvageJSON(body); ok && jsonDepth(doc) <= maxJSONDepth && json.Valid(doc) {
			body, capped = doc, &cut
		} else {
			n := utf8.RuneCount(body)
			capped = &Cut{Kept: n, Total: n, Path: "body_text", kind: '"'}
		}
	}
	isJSON := (capped == nil || capped.Path != "body_text") && jsonDepth(body) <= maxJSONDepth && json.Valid(body)
	if r.status < 200 || r.status >= 300 {
		return nil, fitError(apiError(m, r.status, method, apiPath, body, r.header), min(a.budget(), maxErrorChars))
	}
	switch {
	case isJSON && sel != nil && capped == nil:
		res.Body, res.SelectNote = sel.apply(m, normalizeJSON(body))
	case isJSON:
		res.Body = normalizeJSON(body)
	default:
		res.BodyText = string(body)
	}
	if sel != nil && res.SelectNote == "" && (capped != nil || !isJSON) {
		res.SelectNote = "select was not applied: the answer is not JSON that clerk-mcp can parse whole (see body_text or truncated)"
	}
	a.fit(res, capped, method, apiPath, sel != nil && capped == nil)
	return res, nil
}

// budget is the most characters a result may take.
func (a *api) budget() int { return a.d.resultBudget() }

// fit cuts res to the budget: the JSON body as JSON, body_text at a
// character boundary, with a marker saying what was cut and how to ask
// for the rest. capped, when the answer was larger than clerk-mcp reads
// at all, is what the read cap kept; it is marked even when it fits.
func (a *api) fit(res *APIResult, capped *Cut, method, apiPath string, selected bool) {
	budget := a.budget()
	if capped == nil && resultLen(res) <= budget {
		return
	}
	body, text := res.Body, res.BodyText
	provisional := &Truncation{Cut: Cut{Kept: 1 << 20, Total: 1 << 20, Path: "body_text"}, TotalAtLeast: true,
		Remedy: a.remedy(method, apiPath, Cut{Path: "body_text"}, selected, capped != nil)}
	reserve := 64
	for range 4 {
		res.Body, res.BodyText, res.Truncated = nil, "", provisional
		room := budget - resultLen(res) - reserve
		var cuts []Cut
		if body != nil {
			res.Body, cuts = fitJSON(body, room-len(`,"body":`))
		} else {
			cut := Cut{Path: "body_text", kind: '"'}
			res.BodyText, cut.Kept, cut.Total = fitText(text, room-len(`,"body_text":`))
			if cut.Kept < cut.Total {
				cuts = []Cut{cut}
			}
		}
		if capped != nil {
			if len(cuts) > 0 && cuts[0].Path == capped.Path {
				cuts[0].Total = capped.Total
			} else {
				cuts = append([]Cut{*capped}, cuts...)
			}
		}
		if len(cuts) == 0 {
			// The body fits; what is over is the rest of the result
			// (headers), which the reserve accounts for.
			res.Truncated = nil
			return
		}
		res.Truncated = newTruncation(cuts, a.remedy(method, apiPath, cuts[0], selected, capped != nil))
		res.Truncated.TotalAtLeast = capped != nil
		over := resultLen(res) - budget
		if over <= 0 {
			return
		}
		reserve += over
	}
}

// resultLen is the size of v as the server encodes it.
func resultLen(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

// remedy tells the agent how to get what a cut left out: a select
// expression keeping only the fields it needs, or the operation's limit
// and offset query parameters when it has them.
func (a *api) remedy(method, apiPath string, cut Cut, selected, readCapped bool) string {
	var b strings.Builder
	if readCapped {
		fmt.Fprintf(&b, "The answer is larger than the %d bytes clerk-mcp reads: only the first %d %s of %s are shown. ", MaxResponseBody, cut.Kept, cut.unit(), cut.Path)
	} else {
		fmt.Fprintf(&b, "The answer is over clerk-mcp's budget of %d characters: only the first %d of %d %s of %s are shown. ", a.budget(), cut.Kept, cut.Total, cut.unit(), cut.Path)
	}
	switch {
	case selected:
		b.WriteString("Narrow `select` to fewer fields or items")
	default:
		example := `{id: id, name: name}`
		if cut.kind == '[' {
			example = strings.TrimPrefix(cut.Path+"[].{id: id, created_at: created_at}", "@")
		}
		fmt.Fprintf(&b, "Pass `select` with a JMESPath expression keeping only the fields you need (e.g. %q; api_endpoints' detail lists the answer's response_fields)", example)
	}
	if paged(method, apiPath) {
		if cut.kind == '[' && !readCapped {
			fmt.Fprintf(&b, ", or page with the query parameters limit and offset (e.g. limit %d, raising offset by %d for each next page)", max(cut.Kept, 1), max(cut.Kept, 1))
		} else {
			b.WriteString(", or page with the query parameters limit and offset")
		}
	}
	b.WriteString(".")
	return b.String()
}

// paged reports whether the operation at method and apiPath (a normalized
// path) takes limit and offset query parameters, as its spec says.
func paged(method, apiPath string) bool {
	target := TargetBackend
	if strings.HasPrefix(apiPath, "/v1/platform/") || apiPath == "/v1/platform" {
		target = TargetPlatform
	}
	d, err := catalog.Describe("", target, method, apiPath)
	if err != nil {
		return false
	}
	var limit, offset bool
	for _, p := range d.Parameters {
		if p.In == "query" {
			limit = limit || p.Name == "limit"
			offset = offset || p.Name == "offset"
		}
	}
	return limit && offset
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
func apiError(m *masker, status int, method, apiPath string, body []byte, h http.Header) *envelope.Error {
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
	e := &envelope.Error{
		Reason:  envelope.ReasonAPIError,
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
		// The server chose it: it goes to the agent as a pointer, not
		// as a page of text.
		loc := safetext.Truncate(m.clean(h.Get("Location")), maxLocation)
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
