package tools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/tools/catalog"
)

// EndpointsArgs are the api_endpoints tool's arguments. Query searches;
// OperationID, or Method with Path, asks for the detail of one operation.
type EndpointsArgs struct {
	Query       string `json:"query,omitempty"`
	OperationID string `json:"operation_id,omitempty"`
	Path        string `json:"path,omitempty"`
	Target      string `json:"target,omitempty"`
	Method      string `json:"method,omitempty"`
	Tag         string `json:"tag,omitempty"`
	Limit       int    `json:"limit,omitempty"`
}

// EndpointsResult is the api_endpoints tool's structured output: search
// hits, or the detail of one operation.
type EndpointsResult struct {
	Endpoints []catalog.Endpoint `json:"endpoints,omitempty"`
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

// endpointSchema is one search hit.
const endpointSchema = `{"type":"object","properties":{` +
	`"target":{"type":"string","enum":["platform","backend"]},"method":{"type":"string"},` +
	`"path":{"type":"string","description":"path to pass to the api tool, with {params} to fill in"},` +
	`"summary":{"type":"string"},"operation_id":{"type":"string"},` +
	`"path_params":{"type":"array","items":{"type":"string"}},` +
	`"has_body":{"type":"boolean","description":"the endpoint takes a request body"},` +
	`"deprecated":{"type":"boolean"}},` +
	`"required":["target","method","path","summary","operation_id","path_params","has_body"]}`

// operationSchema is the detail of one operation. The body is a JSON
// Schema of its own, so it is only said to be an object here.
const operationSchema = `{"type":"object","properties":{` +
	`"target":{"type":"string","enum":["platform","backend"]},"method":{"type":"string"},` +
	`"path":{"type":"string"},"summary":{"type":"string"},"operation_id":{"type":"string"},` +
	`"path_params":{"type":"array","items":{"type":"string"}},"has_body":{"type":"boolean"},` +
	`"deprecated":{"type":"boolean"},"tags":{"type":"array","items":{"type":"string"}},` +
	`"description":{"type":"string"},` +
	`"parameters":{"type":"array","description":"path and query parameters","items":{"type":"object","properties":{` +
	`"name":{"type":"string"},"in":{"type":"string","enum":["path","query"]},"type":{"type":"string"},` +
	`"required":{"type":"boolean"},"enum":{"type":"array"},"default":{},"description":{"type":"string"}},` +
	`"required":["name","in","type","required"]}},` +
	`"body_required":{"type":"boolean"},` +
	`"content_type":{"type":"string","description":"set when the body is not JSON"},` +
	`"body":{"type":"object","description":"JSON Schema of the request body, $refs resolved; branches marked truncated are cut"},` +
	`"response_status":{"type":"string"},` +
	`"response_fields":{"type":"object","description":"JMESPath-like field paths of the answer (data[].id) and their types, for api's select","additionalProperties":{"type":"string"}}},` +
	`"required":["target","method","path","summary","operation_id","path_params","has_body"]}`

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
		InputSchema: json.RawMessage(`{"type":"object","properties":{` +
			`"query":{"type":"string","description":"search: what you want to do, in plain words"},` +
			`"operation_id":{"type":"string","description":"detail: the operation_id of a search hit, e.g. CreateUser"},` +
			`"path":{"type":"string","description":"detail, with method: the operation's path, e.g. /users or /v1/users/{user_id}"},` +
			`"target":{"type":"string","enum":["platform","backend"],"description":"only this API"},` +
			`"method":{"type":"string","enum":["GET","POST","PUT","PATCH","DELETE"],"description":"search: only this HTTP method; detail: the operation's method"},` +
			`"tag":{"type":"string","description":"search: only endpoints with this OpenAPI tag, e.g. Users or Organizations"},` +
			`"limit":{"type":"integer","minimum":1,"maximum":50,"default":10}},` +
			`"additionalProperties":false}`),
		OutputSchema: json.RawMessage(`{"type":"object","properties":{` +
			`"endpoints":{"type":"array","description":"search hits, best first","items":` + endpointSchema + `},` +
			`"operation":` + operationSchema + `},` +
			`"additionalProperties":false}`),
		ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false,
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
