package tools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/tools/catalog"
)

// EndpointsArgs are the api_endpoints tool's arguments. Query searches;
// OperationID, or Method with Path, asks for the detail of one operation.
type EndpointsArgs struct {
	Query       string `json:"query,omitempty" jsonschema:"search: what you want to do, in plain words"`
	OperationID string `json:"operation_id,omitempty" jsonschema:"detail: the operation_id of a search hit, e.g. CreateUser"`
	Path        string `json:"path,omitempty" jsonschema:"detail, with method: the operation's path, e.g. /users or /v1/users/{user_id}"`
	Target      string `json:"target,omitempty" jsonschema:"only this API"`
	Method      string `json:"method,omitempty" jsonschema:"search: only this HTTP method; detail: the operation's method"`
	Tag         string `json:"tag,omitempty" jsonschema:"search: only endpoints with this OpenAPI tag, e.g. Users or Organizations"`
	Limit       int    `json:"limit,omitempty"`
}

// EndpointsResult is the api_endpoints tool's structured output: search
// hits, or the detail of one operation.
type EndpointsResult struct {
	Endpoints []catalog.Endpoint `json:"endpoints,omitempty" jsonschema:"search hits, best first"`
	Operation *catalog.Detail    `json:"operation,omitempty"`
}

// MarshalJSON writes a search that found nothing as "endpoints": [], so
// that an empty answer still says which mode ran.
func (r EndpointsResult) MarshalJSON() ([]byte, error) {
	if r.Operation != nil {
		return json.Marshal(struct {
			Operation *catalog.Detail `json:"operation"`
		}{r.Operation})
	}
	eps := r.Endpoints
	if eps == nil {
		eps = []catalog.Endpoint{}
	}
	return json.Marshal(struct {
		Endpoints []catalog.Endpoint `json:"endpoints"`
	}{eps})
}

const (
	defaultEndpointsLimit = 10
	maxEndpointsLimit     = 50
)

// endpointsOutput completes the derived schema of EndpointsResult.
func endpointsOutput(s *jsonschema.Schema) {
	hit, op := prop(s, "endpoints").Items, prop(s, "operation")
	prop(hit, "target").Enum = targetEnum
	prop(op, "target").Enum = targetEnum
	param := prop(op, "parameters").Items
	prop(param, "in").Enum = []any{"path", "query"}
	// Enum values and defaults have the parameter's own type, which only
	// the spec knows; an array is all that can be said of the first, and
	// the second needs a description not to be written as a bare true.
	prop(param, "enum").Items = nil
	prop(param, "default").Description = "the parameter's default value"
}

func endpointsTool() Tool {
	return Tool{
		Name:  "api_endpoints",
		Title: "Find Clerk API endpoints",
		Description: "Searches the catalog of Clerk's Backend API (users, organizations, sessions, invitations...) and " +
			"Platform API (applications, instances, domains) endpoints, built from Clerk's OpenAPI specs. Two modes. " +
			"Search: give `query`, what the user wants in plain words (\"list users\", \"kick someone out of a team\", " +
			"\"sign in as a customer\"); optionally narrow by `target`, `method` or `tag`. Returns the best matches first " +
			"as {target, method, path, summary, operation_id, path_params, has_body}. " +
			"Detail: give `operation_id` (from a search) or `method` and `path` (as the api tool takes it: /users, " +
			"/v1/users/{user_id}, /platform/applications). Returns the operation's path and query parameters (name, type, " +
			"required, enum, description), its request body as a JSON Schema with $refs resolved (deep branches marked " +
			"truncated), and response_fields, the answer's main fields (data[].id) to write a `select` projection with. " +
			"Ask for the detail before a call with a body, then pass target, method, path (path_params filled in), query " +
			"and body to `api`. Works offline; needs no login.",
		InputSchema:  schema("api_endpoints.input"),
		OutputSchema: schema("api_endpoints.output"),
		ReadOnly:     true, Destructive: false, Idempotent: true, OpenWorld: false,
		Handler: func(ctx context.Context, raw json.RawMessage) (any, error) {
			var args EndpointsArgs
			if err := decodeArgs(raw, &args); err != nil {
				return nil, err
			}
			return FindEndpoints(args)
		},
	}
}

// FindEndpoints runs one api_endpoints call: the detail of one operation
// when args name one, a search otherwise.
func FindEndpoints(args EndpointsArgs) (*EndpointsResult, error) {
	switch args.Target {
	case "", TargetPlatform, TargetBackend:
	default:
		return nil, envelope.InvalidInput(`target must be "platform" or "backend"`)
	}
	if args.OperationID != "" || args.Path != "" {
		return describeEndpoint(args)
	}
	if strings.TrimSpace(args.Query) == "" && args.Tag == "" {
		return nil, envelope.InvalidInput("give `query` (what you want to do, e.g. \"list users\") to search, or `operation_id`, or `method` and `path`, for the detail of one operation")
	}
	limit := args.Limit
	switch {
	case limit == 0:
		limit = defaultEndpointsLimit
	case limit < 0 || limit > maxEndpointsLimit:
		return nil, envelope.InvalidInput("limit must be between 1 and 50")
	}
	found := catalog.Search(args.Query, catalog.Filter{Target: args.Target, Method: args.Method, Tag: args.Tag}, limit)
	return &EndpointsResult{Endpoints: found}, nil
}

func describeEndpoint(args EndpointsArgs) (*EndpointsResult, error) {
	if args.OperationID == "" && args.Method == "" {
		return nil, envelope.InvalidInput("`path` needs `method` to name one operation, e.g. method POST, path /users")
	}
	d, err := catalog.Describe(args.OperationID, args.Target, args.Method, args.Path)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, &envelope.Error{Reason: envelope.ReasonInvalidInput, Message: "unknown operation", Err: err,
			Remedy: "Search with `query` for the operation, then ask for its detail with the operation_id it returns."}
	}
	if err != nil {
		return nil, envelope.InvalidInput(err.Error())
	}
	return &EndpointsResult{Operation: d}, nil
}
