package tools

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// The api tool is split by concern: api_request.go normalizes and
// validates the arguments, api_send.go is the transport (no redirects),
// api_keys.go resolves and caches Backend secret keys, api_answer.go turns
// Clerk's answer into the result, api_mask.go keeps credentials out of it,
// api_select.go applies select, and budget.go fits results to the budget.
// api_spec.go checks a request against Clerk's OpenAPI spec,
// api_confirm.go asks for the user's yes, api_dryrun.go shows a request
// without sending it and api_audit.go records every write.

// APIArgs are the api tool's arguments.
type APIArgs struct {
	Target        string          `json:"target,omitempty"`
	Method        string          `json:"method,omitempty"`
	Path          string          `json:"path" jsonschema:"e.g. /users; no host or query string"`
	Query         map[string]any  `json:"query,omitempty"`
	Body          json.RawMessage `json:"body,omitempty"`
	ApplicationID string          `json:"application_id,omitempty" jsonschema:"backend without CLERK_SECRET_KEY: whose secret key to use"`
	Instance      string          `json:"instance,omitempty" jsonschema:"development, production or an instance id"`
	// Select is a JMESPath expression applied to the JSON answer.
	Select string `json:"select,omitempty" jsonschema:"JMESPath applied to the JSON answer"`
	// DryRun sends nothing and returns the request that would go out
	// (api_dryrun.go).
	DryRun bool `json:"dry_run,omitempty" jsonschema:"send nothing; show the request, spec check and confirmation need"`
	// Confirm is the token of a confirmation_required error, passed
	// after the user agreed (api_confirm.go).
	Confirm string `json:"confirm,omitempty" jsonschema:"token of a confirmation_required error, after the user agreed"`
}

// APIResult is the api tool's result.
type APIResult struct {
	Status   int               `json:"status"`
	Headers  map[string]string `json:"headers,omitempty"`
	Body     json.RawMessage   `json:"body,omitempty"`
	BodyText string            `json:"body_text,omitempty"`
	// Truncated is set when the answer was cut to fit the result budget
	// (or the read cap): what was cut and how to see the rest.
	Truncated *Truncation `json:"truncated,omitempty"`
	// SelectNote says why select was not applied, or matched nothing.
	SelectNote string `json:"select_note,omitempty"`
}

// api is the api tool with its in-memory cache of resolved secret keys.
type api struct {
	d Deps
	// http is d.HTTP made to refuse redirects: every request it sends
	// carries a credential.
	http *http.Client
	keys keyCache
	// confirms are the confirmation tokens and questions in flight.
	confirms confirmations
}

func newAPI(d Deps) *api {
	// NoRedirectClient copies the client, so one passed in Deps (shared
	// with the OAuth calls, say) gets the same rule without being changed.
	return &api{d: d, http: auth.NoRedirectClient(d.HTTP)}
}

func (a *api) tool() Tool {
	desc := "Calls Clerk's Platform API (target platform, default: applications, instances, domains) or Backend API " +
		"(target backend: users, organizations, sessions...). Paths as in Clerk's CLI: /users is /v1/users; for platform, " +
		"/applications is /v1/platform/applications. `query` and `body` are checked against Clerk's OpenAPI spec before " +
		"sending. `select` (JMESPath) keeps only what you need of the JSON answer, e.g. [].{id: id, email: " +
		"email_addresses[0].email_address} (api_endpoints' detail lists response_fields); an answer over budget is cut as " +
		"JSON and marked `truncated`. Backend calls use CLERK_SECRET_KEY or the key of `application_id`'s `instance` " +
		"(default development). Secrets in answers are masked; redirects are not followed. Non-2xx: an error with Clerk's " +
		"errors[] and clerk_trace_id; without a session it may carry login_url: show it to the user, then retry."
	if a.d.ReadOnly {
		desc += " This server is read-only: only GET is allowed."
	}
	desc += a.confirmHelp()
	return Tool{
		Name:        "api",
		Title:       "Call a Clerk API",
		Description: desc,
		InputSchema: schema("api.input"),
		ReadOnly:    a.d.ReadOnly, Destructive: !a.d.ReadOnly, Idempotent: false, OpenWorld: true,
		Handler: func(ctx context.Context, raw json.RawMessage) (any, error) {
			var args APIArgs
			if err := decodeArgs(raw, &args); err != nil {
				return nil, err
			}
			if args.DryRun {
				return a.DryRun(ctx, args)
			}
			return a.Call(ctx, args)
		},
	}
}

// apiInput completes the derived schema of APIArgs. query and body each
// take one of several JSON types; Gemini rejects a `type` array, so their
// schemas name no type and say in words what requestBody and queryValues
// (api_request.go) accept.
func apiInput(s *jsonschema.Schema) {
	target := prop(s, "target")
	target.Enum, target.Default = targetEnum, json.RawMessage(`"platform"`)
	method := prop(s, "method")
	method.Enum, method.Default = methodEnum, json.RawMessage(`"GET"`)
	prop(s, "instance").Default = json.RawMessage(`"development"`)
	prop(s, "query").AdditionalProperties = &jsonschema.Schema{
		Description: "a string, number, boolean, or an array of them",
	}
	s.Properties["body"] = &jsonschema.Schema{
		Description: "JSON body: an object, an array, or a string holding JSON",
	}
}

// Call runs one api tool call: the request is checked against Clerk's
// spec (api_spec.go), confirmed when the policy asks for it
// (api_confirm.go), sent, and, when it is a write, recorded in the audit
// log whatever the outcome (api_audit.go).
func (a *api) Call(ctx context.Context, args APIArgs) (_ *APIResult, err error) {
	if args.DryRun {
		// Only DryRun may take a dry run: sending it would be the one
		// thing a dry run promises not to do.
		return nil, envelope.InvalidInput("dry_run calls are answered by DryRun")
	}
	rec := a.startAudit(ctx, args)
	defer func() { rec.finish(ctx, err) }()
	req, err := a.request(args)
	if err != nil {
		return nil, err
	}
	rec.request(req)
	sel, err := compileSelect(args.Select)
	if err != nil {
		return nil, err
	}
	if err := checkSpec(ctx, req).err(); err != nil {
		return nil, err
	}
	m := a.masker()
	if err := a.confirm(ctx, m, req, args.Confirm, rec); err != nil {
		return nil, m.error(err)
	}
	var resp *response
	if req.target == TargetBackend {
		resp, err = a.backend(ctx, m, req)
	} else {
		resp, err = a.platform(ctx, m, req.method, req.path, req.query, req.body)
	}
	if err != nil {
		return nil, m.error(err)
	}
	rec.answer(resp)
	return a.result(m, resp, req.method, req.path, sel)
}

// platformCall is a Platform API call for the other tools.
func platformCall(ctx context.Context, d Deps, method, apiPath string, query url.Values) (*APIResult, error) {
	a := newAPI(d)
	m := a.masker()
	resp, err := a.platform(ctx, m, method, apiPath, query, nil)
	if err != nil {
		return nil, m.error(err)
	}
	return a.result(m, resp, method, apiPath, nil)
}
