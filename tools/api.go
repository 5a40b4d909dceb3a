package tools

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/clerk-mcp/clerk-mcp/auth"
)

// The api tool is split by concern: api_request.go normalizes and
// validates the arguments, api_send.go is the transport (no redirects),
// api_keys.go resolves and caches Backend secret keys, api_answer.go turns
// Clerk's answer into the result and api_mask.go keeps credentials out of it.

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

// api is the api tool with its in-memory cache of resolved secret keys.
type api struct {
	d Deps
	// http is d.HTTP made to refuse redirects: every request it sends
	// carries a credential.
	http *http.Client
	keys keyCache
}

func newAPI(d Deps) *api {
	// NoRedirectClient copies the client, so one passed in Deps (shared
	// with the OAuth calls, say) gets the same rule without being changed.
	return &api{d: d, http: auth.NoRedirectClient(d.HTTP)}
}

func (a *api) tool() Tool {
	desc := "Calls Clerk's Platform API (target \"platform\", the default: applications, instances, domains) or " +
		"Backend API (target \"backend\": users, organizations, sessions, invitations...) and returns the status, " +
		"selected headers and the parsed JSON body. Paths are like Clerk's CLI: \"/users\" means /v1/users and, for " +
		"the Platform API, \"/applications\" means /v1/platform/applications. Put query parameters in `query` and " +
		"the JSON request body in `body`. Backend calls use CLERK_SECRET_KEY, or pass `application_id` (and " +
		"`instance`, default development) to use that instance's key. Secret keys and tokens in answers are masked. " +
		"Redirects are not followed: a 3xx comes back as an error with its status and Location. " +
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
	req, err := a.request(args)
	if err != nil {
		return nil, err
	}
	m := a.masker()
	var resp *response
	if req.target == TargetBackend {
		resp, err = a.backend(ctx, m, req)
	} else {
		resp, err = a.platform(ctx, m, req.method, req.path, req.query, req.body)
	}
	if err != nil {
		return nil, m.error(err)
	}
	return a.result(m, resp, req.method, req.path)
}

// platformCall is a Platform API call for the other tools.
func platformCall(ctx context.Context, d Deps, method, apiPath string, query url.Values) (*APIResult, error) {
	a := newAPI(d)
	m := a.masker()
	resp, err := a.platform(ctx, m, method, apiPath, query, nil)
	if err != nil {
		return nil, m.error(err)
	}
	return a.result(m, resp, method, apiPath)
}
