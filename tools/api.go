package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/clerk-mcp/clerk-mcp/auth"
)

// MaxResponseBody caps how much of an API answer is read and returned.
const MaxResponseBody = 1 << 20

// APIArgs are the api tool's arguments.
type APIArgs struct {
	Target        string          `json:"target,omitempty"`
	Method        string          `json:"method,omitempty"`
	Path          string          `json:"path"`
	Query         map[string]any  `json:"query,omitempty"`
	Body          json.RawMessage `json:"body,omitempty"`
	ApplicationID string          `json:"application_id,omitempty"`
	Instance      string          `json:"instance,omitempty"`
}

// APIResult is the api tool's result.
type APIResult struct {
	Status    int               `json:"status"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"`
	BodyText  string            `json:"body_text,omitempty"`
	Truncated bool              `json:"truncated"`
}

// shownHeaders are the response headers worth showing to an agent.
var shownHeaders = []string{"Content-Type", "X-Clerk-Trace-Id", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Location"}

var secretKeyPattern = regexp.MustCompile(`sk_(live|test)_[A-Za-z0-9]+`)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// api is the api tool with its in-memory cache of resolved secret keys.
type api struct {
	d Deps

	mu   sync.Mutex
	keys map[string]string // application_id + "/" + instance -> sk_ key
}

func newAPI(d Deps) *api {
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: auth.DefaultHTTPTimeout}
	}
	return &api{d: d, keys: map[string]string{}}
}

func (a *api) tool() Tool {
	desc := "Calls Clerk's Platform API (target \"platform\", the default: applications, instances, domains) or " +
		"Backend API (target \"backend\": users, organizations, sessions, invitations...) and returns the status, " +
		"selected headers and the parsed JSON body. Paths are like Clerk's CLI: \"/users\" means /v1/users and, for " +
		"the Platform API, \"/applications\" means /v1/platform/applications. Put query parameters in `query` and " +
		"the JSON request body in `body`. Backend calls use CLERK_SECRET_KEY, or pass `application_id` (and " +
		"`instance`, default development) to use that instance's key. Secret keys in answers are masked. " +
		"Non-2xx answers come back as errors with Clerk's errors[] and clerk_trace_id. Use api_endpoints to find the path for a task."
	if a.d.ReadOnly {
		desc += " This server is read-only: only GET is allowed."
	}
	return Tool{
		Name:        "api",
		Title:       "Call a Clerk API",
		Description: desc,
		InputSchema: json.RawMessage(`{"type":"object","properties":{` +
			`"target":{"type":"string","enum":["platform","backend"],"default":"platform","description":"platform: Platform API; backend: Backend API of one instance"},` +
			`"method":{"type":"string","enum":["GET","POST","PUT","PATCH","DELETE"],"default":"GET"},` +
			`"path":{"type":"string","description":"API path such as /users or /applications; no host, no query string"},` +
			`"query":{"type":"object","description":"query parameters","additionalProperties":{"type":["string","number","boolean","array"],"items":{"type":["string","number","boolean"]}}},` +
			`"body":{"type":["object","array","string"],"description":"JSON request body (object, array, or a JSON string)"},` +
			`"application_id":{"type":"string","description":"for target backend without CLERK_SECRET_KEY: the application whose secret key to use"},` +
			`"instance":{"type":"string","description":"development (default), production, or an instance id","default":"development"}},` +
			`"required":["path"],"additionalProperties":false}`),
		ReadOnly: a.d.ReadOnly, Destructive: !a.d.ReadOnly, Idempotent: false, OpenWorld: true,
		Handler: func(ctx context.Context, raw json.RawMessage) (any, error) {
			var args APIArgs
			if err := decodeArgs(raw, &args); err != nil {
				return nil, err
			}
			return a.Call(ctx, args)
		},
	}
}

// Call runs one api tool call.
func (a *api) Call(ctx context.Context, args APIArgs) (*APIResult, error) {
	target := args.Target
	if target == "" {
		target = TargetPlatform
	}
	method := strings.ToUpper(args.Method)
	if method == "" {
		method = http.MethodGet
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return nil, invalidInput("method must be GET, POST, PUT, PATCH or DELETE")
	}
	if a.d.ReadOnly && method != http.MethodGet {
		return nil, &Error{Reason: auth.ReasonReadOnly,
			Message: fmt.Sprintf("This clerk-mcp server runs with --read-only; %s is refused.", method),
			Remedy:  "Only GET calls are allowed. Ask the user to restart the server without --read-only to make changes."}
	}
	apiPath, err := NormalizePath(target, args.Path)
	if err != nil {
		return nil, err
	}
	query, err := queryValues(args.Query)
	if err != nil {
		return nil, err
	}
	body, err := requestBody(method, args.Body)
	if err != nil {
		return nil, err
	}
	var resp *response
	if target == TargetBackend {
		key, err := a.secretKey(ctx, args.ApplicationID, args.Instance)
		if err != nil {
			return nil, err
		}
		resp, err = a.send(ctx, a.d.Config.BackendAPIURL, method, apiPath, query, body, key)
		if err != nil {
			return nil, err
		}
	} else {
		if resp, err = a.platform(ctx, method, apiPath, query, body); err != nil {
			return nil, err
		}
	}
	return a.result(resp, method, apiPath)
}

// response is a raw API answer.
type response struct {
	status    int
	header    http.Header
	body      []byte
	truncated bool
}

// platform calls the Platform API with the Platform API key, or with the
// OAuth session, refreshing and retrying once on a 401.
func (a *api) platform(ctx context.Context, method, apiPath string, query url.Values, body []byte) (*response, error) {
	base := a.d.Config.PlatformAPIURL
	if key := a.d.Config.PlatformAPIKey; key != "" {
		return a.send(ctx, base, method, apiPath, query, body, key)
	}
	var last *response
	err := a.d.Source.Do(ctx, func(ctx context.Context, token string) error {
		r, err := a.send(ctx, base, method, apiPath, query, body, token)
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

// send makes one request with a bearer credential and reads the answer up
// to MaxResponseBody.
func (a *api) send(ctx context.Context, base, method, apiPath string, query url.Values, body []byte, bearer string) (*response, error) {
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
		return nil, invalidInput("cannot build the request: " + err.Error())
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "clerk-mcp")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.d.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Reason: auth.ReasonNetworkError, Retryable: true,
			Message: fmt.Sprintf("Could not reach Clerk at %s://%s.", u.Scheme, u.Host),
			Remedy:  "Retry in a moment; if it persists, check the network and the API URL configuration.",
			Err:     errors.New(strings.ReplaceAll(err.Error(), bearer, "[redacted]"))}
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

// result turns an answer into the tool result, or an api_error for non-2xx.
func (a *api) result(r *response, method, apiPath string) (*APIResult, error) {
	body := bytes.ToValidUTF8(r.body, []byte("\uFFFD"))
	if !a.d.RevealSecrets {
		body = MaskSecrets(body)
	}
	res := &APIResult{Status: r.status, Truncated: r.truncated, Headers: map[string]string{}}
	for _, h := range shownHeaders {
		if v := r.header.Get(h); v != "" {
			res.Headers[h] = v
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
	return nil, apiError(r.status, method, apiPath, body, r.header)
}

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

// MaskSecrets replaces secret key values (sk_live_..., sk_test_...) with a
// masked form that keeps the prefix and the last four characters.
func MaskSecrets(b []byte) []byte {
	return secretKeyPattern.ReplaceAllFunc(b, func(k []byte) []byte {
		prefix := k[:8] // "sk_live_" or "sk_test_"
		tail := k[len(k)-min(4, len(k)-8):]
		return append(append(append([]byte{}, prefix...), "****"...), tail...)
	})
}

func apiError(status int, method, apiPath string, body []byte, h http.Header) *Error {
	var parsed struct {
		Errors []struct {
			Message     string `json:"message"`
			LongMessage string `json:"long_message"`
			Code        string `json:"code"`
		} `json:"errors"`
		TraceID string `json:"clerk_trace_id"`
	}
	json.Unmarshal(body, &parsed)
	e := &Error{
		Reason:  auth.ReasonAPIError,
		Status:  status,
		TraceID: parsed.TraceID,
		Message: fmt.Sprintf("Clerk answered %d %s to %s %s.", status, http.StatusText(status), method, apiPath),
	}
	if e.TraceID == "" {
		e.TraceID = h.Get("X-Clerk-Trace-Id")
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

// secretKey returns the Backend API key: CLERK_SECRET_KEY, else the
// instance's key resolved through the Platform API and kept in memory.
func (a *api) secretKey(ctx context.Context, appID, instance string) (string, error) {
	if a.d.Config.SecretKey != "" {
		return a.d.Config.SecretKey, nil
	}
	if appID == "" {
		return "", &Error{Reason: auth.ReasonMissingSecretKey,
			Message: "Backend API calls need a secret key, and none is configured.",
			Remedy:  "Pass application_id (and instance, default development) to use that instance's key via the Platform API, or ask the user to set CLERK_SECRET_KEY."}
	}
	if instance == "" {
		instance = "development"
	}
	if !idPattern.MatchString(appID) || !idPattern.MatchString(instance) {
		return "", invalidInput("application_id and instance must be plain ids (letters, digits, _ and -)")
	}
	cacheKey := appID + "/" + instance
	a.mu.Lock()
	key, ok := a.keys[cacheKey]
	a.mu.Unlock()
	if ok {
		return key, nil
	}
	resp, err := a.platform(ctx, http.MethodGet, "/v1/platform/applications/"+appID, url.Values{"include_secret_keys": {"true"}}, nil)
	if err != nil {
		return "", err
	}
	if resp.status != http.StatusOK {
		return "", apiError(resp.status, http.MethodGet, "/v1/platform/applications/"+appID, MaskSecrets(resp.body), resp.header)
	}
	var app struct {
		Instances []struct {
			InstanceID      string `json:"instance_id"`
			EnvironmentType string `json:"environment_type"`
			SecretKeys      []struct {
				Secret string `json:"secret"`
			} `json:"secret_keys"`
		} `json:"instances"`
	}
	if err := json.Unmarshal(resp.body, &app); err != nil {
		return "", &Error{Reason: auth.ReasonAPIError, Status: resp.status,
			Message: "Could not read the application's instances from the Platform API.",
			Remedy:  "Retry; if it persists, set CLERK_SECRET_KEY.", Err: err}
	}
	for _, in := range app.Instances {
		if (in.EnvironmentType == instance || in.InstanceID == instance) && len(in.SecretKeys) > 0 && in.SecretKeys[0].Secret != "" {
			key = in.SecretKeys[0].Secret
			a.mu.Lock()
			a.keys[cacheKey] = key
			a.mu.Unlock()
			return key, nil
		}
	}
	return "", &Error{Reason: auth.ReasonMissingSecretKey,
		Message: fmt.Sprintf("Application %s has no %s instance with a secret key.", appID, instance),
		Remedy:  "Check application_id and instance (development, production, or an instance id)."}
}

func queryValues(q map[string]any) (url.Values, error) {
	v := url.Values{}
	for k, val := range q {
		switch x := val.(type) {
		case []any:
			for _, item := range x {
				s, ok := scalar(item)
				if !ok {
					return nil, invalidInput(fmt.Sprintf("query %q: array items must be strings, numbers or booleans", k))
				}
				v.Add(k, s)
			}
		default:
			s, ok := scalar(val)
			if !ok {
				return nil, invalidInput(fmt.Sprintf("query %q: values must be strings, numbers, booleans or arrays of them", k))
			}
			v.Set(k, s)
		}
	}
	return v, nil
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// requestBody validates the body argument: a JSON object or array, or a
// string holding JSON.
func requestBody(method string, raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if method == http.MethodGet {
		return nil, invalidInput("GET requests take no body; use query")
	}
	switch raw[0] {
	case '{', '[':
		return raw, nil
	case '"':
		var s string
		json.Unmarshal(raw, &s)
		if !json.Valid([]byte(s)) {
			return nil, invalidInput("body string must hold JSON")
		}
		return []byte(s), nil
	}
	return nil, invalidInput("body must be a JSON object, array, or a string holding JSON")
}

// platformCall is a Platform API GET for the other tools.
func platformCall(ctx context.Context, d Deps, method, apiPath string, query url.Values) (*APIResult, error) {
	a := newAPI(d)
	resp, err := a.platform(ctx, method, apiPath, query, nil)
	if err != nil {
		return nil, err
	}
	return a.result(resp, method, apiPath)
}
