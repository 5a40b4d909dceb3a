package tools

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/tools/catalog"
)

// EndpointsArgs are the api_endpoints tool's arguments.
type EndpointsArgs struct {
	Query  string `json:"query"`
	Target string `json:"target,omitempty"`
	Method string `json:"method,omitempty"`
	Tag    string `json:"tag,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// EndpointsResult is the api_endpoints tool's structured output.
type EndpointsResult struct {
	Endpoints []catalog.Endpoint `json:"endpoints"`
}

const (
	defaultEndpointsLimit = 10
	maxEndpointsLimit     = 50
)

func endpointsTool() Tool {
	return Tool{
		Name:  "api_endpoints",
		Title: "Find Clerk API endpoints",
		Description: "Searches the catalog of Clerk's Backend API (users, organizations, sessions, invitations...) and " +
			"Platform API (applications, instances, domains) endpoints, built from Clerk's OpenAPI specs. Give `query` " +
			"in plain words (\"list users\", \"ban user\", \"create organization invitation\"); optionally narrow by " +
			"`target`, `method` or `tag`. Returns the best matches first as {target, method, path, summary, " +
			"operation_id, path_params, has_body, tags, description}. Use it before `api` when you do not know the exact path, then pass " +
			"target, method and path (with the path_params filled in) to `api`. Works offline; needs no login.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{` +
			`"query":{"type":"string","description":"what you want to do, in plain words"},` +
			`"target":{"type":"string","enum":["platform","backend"],"description":"only this API"},` +
			`"method":{"type":"string","enum":["GET","POST","PUT","PATCH","DELETE"],"description":"only this HTTP method"},` +
			`"tag":{"type":"string","description":"only endpoints with this OpenAPI tag, e.g. Users or Organizations"},` +
			`"limit":{"type":"integer","minimum":1,"maximum":50,"default":10}},` +
			`"required":["query"],"additionalProperties":false}`),
		OutputSchema: json.RawMessage(`{"type":"object","properties":{"endpoints":{"type":"array","items":{"type":"object","properties":{` +
			`"target":{"type":"string","enum":["platform","backend"]},"method":{"type":"string"},` +
			`"path":{"type":"string","description":"path to pass to the api tool, with {params} to fill in"},` +
			`"summary":{"type":"string"},"operation_id":{"type":"string"},` +
			`"path_params":{"type":"array","items":{"type":"string"}},` +
			`"has_body":{"type":"boolean","description":"the endpoint takes a JSON body"},` +
			`"tags":{"type":"array","items":{"type":"string"}},` +
			`"description":{"type":"string","description":"first sentence of the endpoint's documentation"},` +
			`"deprecated":{"type":"boolean"}},` +
			`"required":["target","method","path","summary","operation_id","path_params","has_body"],"additionalProperties":false}}},` +
			`"required":["endpoints"],"additionalProperties":false}`),
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

// FindEndpoints runs one api_endpoints search.
func FindEndpoints(args EndpointsArgs) (*EndpointsResult, error) {
	if strings.TrimSpace(args.Query) == "" && args.Tag == "" {
		return nil, invalidInput("query is empty: say what you want to do, e.g. \"list users\"")
	}
	switch args.Target {
	case "", "platform", "backend":
	default:
		return nil, invalidInput(`target must be "platform" or "backend"`)
	}
	limit := args.Limit
	switch {
	case limit == 0:
		limit = defaultEndpointsLimit
	case limit < 0 || limit > maxEndpointsLimit:
		return nil, invalidInput("limit must be between 1 and 50")
	}
	found := catalog.Search(args.Query, catalog.Filter{Target: args.Target, Method: args.Method, Tag: args.Tag}, limit)
	return &EndpointsResult{Endpoints: found}, nil
}
