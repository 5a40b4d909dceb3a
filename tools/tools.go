// Package tools implements clerk-mcp's tools (whoami, doctor, api,
// api_endpoints) as plain
// handlers with JSON schemas. It knows nothing of MCP plumbing: the server
// package registers these handlers and maps their errors to the envelope.
package tools

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/clients"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// Tool is one tool: its schemas, annotations and handler.
type Tool struct {
	Name        string
	Title       string
	Description string
	// InputSchema and OutputSchema are JSON Schemas; OutputSchema is nil
	// for tools without structured output.
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	// The four MCP annotations, always declared explicitly.
	ReadOnly, Destructive, Idempotent, OpenWorld bool
	// Handler runs the tool. Its errors are *envelope.Error (see envelope.From).
	Handler func(ctx context.Context, args json.RawMessage) (any, error)
	// MaxResultChars is the most characters of text a result takes,
	// declared to clients as _meta["anthropic/maxResultSizeChars"].
	MaxResultChars int
}

// Deps is what the tools need.
type Deps struct {
	Config auth.Config
	Source *auth.Source
	Store  *store.Store
	// HTTP is the client for Platform and Backend API calls.
	HTTP *http.Client
	// ReadOnly refuses every api call but GET.
	ReadOnly bool
	// RevealSecrets shows secret key values in api results.
	RevealSecrets bool
	// Confirm names the api calls that need a human's yes (see
	// api_confirm.go); empty means ConfirmProduction.
	Confirm ConfirmPolicy
	// Audit records every mutating api call; nil records nothing.
	Audit *audit.Log
	// MaxResultChars is the budget of every tool result in characters
	// (see budget.go); zero means DefaultMaxResultChars.
	MaxResultChars int
	// Clients is where MCP clients' user configs live, for doctor's
	// check of which ones run clerk-mcp; a zero Home skips the check.
	Clients clients.Env
}

// NewDeps wires what a server for cfg gives the tools: it opens cfg's
// session store, builds the OAuth client (which never follows redirects)
// and a Source over both with opts. The OAuth client is returned too, for
// the login and logout that share the store. The policy fields (ReadOnly,
// Confirm, Audit, Clients...) are left for the caller.
func NewDeps(cfg auth.Config, opts auth.SourceOptions) (Deps, *auth.Client, error) {
	st, err := cfg.OpenStore()
	if err != nil {
		return Deps{}, nil, err
	}
	client := auth.NewClient(cfg, nil)
	return Deps{Config: cfg, Source: auth.NewSource(st, client, opts), Store: st, HTTP: client.HTTPClient()}, client, nil
}

// All returns every tool, in the order they are listed.
func All(d Deps) []Tool {
	api := newAPI(d)
	all := []Tool{whoamiTool(d), doctorTool(d), api.tool(), endpointsTool()}
	for i := range all {
		all[i] = budgeted(all[i], d.resultBudget())
	}
	return all
}

// resultBudget is the budget of a tool result in characters.
func (d Deps) resultBudget() int {
	if d.MaxResultChars > 0 {
		return d.MaxResultChars
	}
	return DefaultMaxResultChars
}

// decodeArgs decodes a tool's arguments, rejecting unknown fields so that a
// misspelt argument is an error rather than silently ignored.
func decodeArgs(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytesReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return envelope.InvalidInput("Invalid arguments: " + err.Error())
	}
	return nil
}
