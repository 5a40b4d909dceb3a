// Package server exposes clerk-mcp's tools over MCP with mcp-go: it
// registers them with explicit annotations, maps every failure to the error
// envelope as an isError result, logs each call, and serves stdio.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
)

// Instructions tell the model what the server is for and how to act on
// each error reason.
const Instructions = `clerk-mcp gives you authenticated access to the user's Clerk account.

Tools:
- whoami: who the server acts as; call it first to confirm access.
- api: call Clerk's Platform API (target "platform": applications, instances) or Backend API (target "backend": users, organizations, sessions...) with a path like /users; Backend calls need application_id (and instance) unless CLERK_SECRET_KEY is set.
- api_endpoints: find the target, method and path for a task ("list users", "ban user") in Clerk's API catalog; use it before api when unsure of a path. Needs no login.
- doctor: diagnose configuration, session and connectivity problems.

Failed calls return isError with one JSON object {"error":{reason,message,remedy,retryable}}. By reason:
- not_logged_in / session_expired: ask the user to run ` + "`clerk-mcp login`" + ` in a terminal, then retry; do not retry before that.
- refresh_failed, network_error, or any error with retryable true: retry after a few seconds.
- store_unavailable: ask the user to run ` + "`clerk-mcp doctor`" + ` and follow its remedy.
- invalid_input: fix the arguments (see message) and retry.
- read_only: the server only allows GET; do not retry writes.
- missing_secret_key: pass application_id (and instance) to api, or ask the user to set CLERK_SECRET_KEY.
- api_error: Clerk answered an error; read status, errors[] and clerk_trace_id; on 404 look the path up with api_endpoints.`

// ErrorBody is the object inside the error envelope.
type ErrorBody struct {
	Reason    auth.Reason     `json:"reason"`
	Message   string          `json:"message"`
	Remedy    string          `json:"remedy"`
	Retryable bool            `json:"retryable"`
	Status    int             `json:"status,omitempty"`
	Errors    json.RawMessage `json:"errors,omitempty"`
	TraceID   string          `json:"clerk_trace_id,omitempty"`
}

// ReasonInternal marks a bug in clerk-mcp (a panic in a tool).
const ReasonInternal auth.Reason = "internal_error"

// ErrorEnvelope maps any tool or session error to the envelope
// {"error": {...}} that agents and `--json` commands read.
func ErrorEnvelope(err error) map[string]ErrorBody {
	var te *tools.Error
	if errors.As(err, &te) {
		return map[string]ErrorBody{"error": {Reason: te.Reason, Message: te.Message, Remedy: te.Remedy,
			Retryable: te.Retryable, Status: te.Status, Errors: te.Errors, TraceID: te.TraceID}}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return map[string]ErrorBody{"error": {Reason: auth.ReasonNetworkError, Message: "The call was cancelled or timed out.",
			Remedy: "Retry the call.", Retryable: true}}
	}
	ae := auth.AsAuthError(err)
	return map[string]ErrorBody{"error": {Reason: ae.Reason, Message: ae.Message, Remedy: ae.Remedy, Retryable: ae.Retryable}}
}

// errorResult is an isError tool result whose text is the envelope. It has
// no structuredContent: clients validate that against the output schema
// even on errors.
func errorResult(err error) *mcp.CallToolResult {
	text, _ := json.Marshal(ErrorEnvelope(err))
	return &mcp.CallToolResult{Content: []mcp.Content{mcp.NewTextContent(string(text))}, IsError: true}
}

// Options configure New.
type Options struct {
	Tools   []tools.Tool
	Logger  *slog.Logger
	Version string
}

// New returns the MCP server with every tool registered.
func New(opts Options) *mcpserver.MCPServer {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := mcpserver.NewMCPServer("clerk-mcp", opts.Version,
		mcpserver.WithToolCapabilities(false),
		mcpserver.WithInstructions(Instructions),
	)
	for _, t := range opts.Tools {
		s.AddTool(Definition(t), handler(t, logger))
	}
	return s
}

// Definition is t as an MCP tool, with all four annotations set.
func Definition(t tools.Tool) mcp.Tool {
	def := mcp.NewToolWithRawSchema(t.Name, t.Description, t.InputSchema)
	def.Title = t.Title
	def.RawOutputSchema = t.OutputSchema
	def.Annotations = mcp.ToolAnnotation{
		Title:           t.Title,
		ReadOnlyHint:    mcp.ToBoolPtr(t.ReadOnly),
		DestructiveHint: mcp.ToBoolPtr(t.Destructive),
		IdempotentHint:  mcp.ToBoolPtr(t.Idempotent),
		OpenWorldHint:   mcp.ToBoolPtr(t.OpenWorld),
	}
	return def
}

// handler adapts a tool: arguments in, result or envelope out, a panic
// turned into an isError result, one log line per call.
func handler(t tools.Tool, logger *slog.Logger) mcpserver.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, _ error) {
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				logger.Error("tool panicked", "tool", t.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				res = errorResult(&tools.Error{Reason: ReasonInternal,
					Message: fmt.Sprintf("clerk-mcp failed internally while running %s; this is a bug.", t.Name),
					Remedy:  "Retry once; if it fails again, report it with the server log."})
			}
			outcome := "ok"
			if res != nil && res.IsError {
				outcome = "error"
			}
			logger.Debug("tool call", "tool", t.Name, "duration", time.Since(start), "outcome", outcome)
		}()
		args, err := rawArguments(req)
		if err != nil {
			return errorResult(err), nil
		}
		out, err := t.Handler(ctx, args)
		if err != nil {
			logger.Debug("tool failed", "tool", t.Name, "reason", ErrorEnvelope(err)["error"].Reason, "error", err)
			return errorResult(err), nil
		}
		text, err := json.Marshal(out)
		if err != nil {
			return errorResult(fmt.Errorf("encode result: %w", err)), nil
		}
		if t.OutputSchema != nil {
			// RawMessage: the result is encoded once, not twice.
			return mcp.NewToolResultStructured(json.RawMessage(text), string(text)), nil
		}
		return mcp.NewToolResultText(string(text)), nil
	}
}

func rawArguments(req mcp.CallToolRequest) (json.RawMessage, error) {
	if len(req.Params.RawArguments) > 0 {
		return req.Params.RawArguments, nil
	}
	if req.Params.Arguments == nil {
		return nil, nil
	}
	b, err := json.Marshal(req.Params.Arguments)
	if err != nil {
		return nil, &tools.Error{Reason: auth.ReasonInvalidInput, Message: "arguments are not JSON", Remedy: "Send arguments as a JSON object."}
	}
	return b, nil
}

// ServeStdio serves s on in and out until in is closed or ctx ends. Library
// messages go to logger; out carries JSON-RPC only.
func ServeStdio(ctx context.Context, s *mcpserver.MCPServer, in io.Reader, out io.Writer, logger *slog.Logger) error {
	stdio := mcpserver.NewStdioServer(s)
	stdio.SetErrorLogger(log.New(slogWriter{logger}, "", 0))
	return stdio.Listen(ctx, in, out)
}

// slogWriter forwards mcp-go's log.Logger output to slog at warn level.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Warn("mcp: " + string(trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}
