// Package tools implements clerk-mcp's tools (whoami, doctor, api,
// api_endpoints) as plain
// handlers with JSON schemas. It knows nothing of MCP plumbing: the server
// package registers these handlers and maps their errors to the envelope.
package tools

import (
	"context"
	"encoding/json"
	"net/http"

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
	// Handler runs the tool. Its error is an *auth.AuthError or *Error.
	Handler func(ctx context.Context, args json.RawMessage) (any, error)
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
	// Clients is where MCP clients' user configs live, for doctor's
	// check of which ones run clerk-mcp; a zero Home skips the check.
	Clients clients.Env
}

// All returns every tool, in the order they are listed.
func All(d Deps) []Tool {
	api := newAPI(d)
	return []Tool{whoamiTool(d), doctorTool(d), api.tool(), endpointsTool()}
}

// Error is a tool failure that is not about the session: invalid input,
// read-only mode, a missing secret key, or an error answer from Clerk's
// APIs.
type Error struct {
	Reason    auth.Reason
	Message   string
	Remedy    string
	Retryable bool
	// Status, Errors and TraceID describe an error answer from Clerk.
	Status  int
	Errors  json.RawMessage
	TraceID string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func invalidInput(msg string) *Error {
	return &Error{Reason: auth.ReasonInvalidInput, Message: msg,
		Remedy: "Fix the arguments and call the tool again."}
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
		return invalidInput("Invalid arguments: " + err.Error())
	}
	return nil
}
