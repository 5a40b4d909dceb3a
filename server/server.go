// Package server exposes clerk-mcp's tools over MCP with mcp-go: it
// registers them with explicit annotations, maps every failure to the error
// envelope as an isError result, logs each call, and serves stdio.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/envelope"
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
- not_logged_in / session_expired: with login_url, show that link to the user and retry once they say they have logged in; without it, ask the user to run ` + "`clerk-mcp login`" + ` in a terminal, then retry. Do not retry before that.
- declined: the user said no; do not retry unless they ask.
- refresh_failed, network_error, or any error with retryable true: retry after a few seconds.
- store_unavailable: ask the user to run ` + "`clerk-mcp doctor`" + ` and follow its remedy.
- invalid_input: fix the arguments (see message) and retry.
- read_only: the server only allows GET; do not retry writes.
- confirmation_required: show confirmation.summary to the user; after they agree, repeat the call with confirm: its token.
- missing_secret_key: pass application_id (and instance) to api, or ask the user to set CLERK_SECRET_KEY.
- api_error: Clerk answered an error; read status, errors[] and clerk_trace_id; on 404 look the path up with api_endpoints.`

// errorResult is an isError tool result whose text is the envelope. It has
// no structuredContent: clients validate that against the output schema
// even on errors.
func errorResult(err error) *mcp.CallToolResult {
	text := envelope.Marshal(err)
	return &mcp.CallToolResult{Content: []mcp.Content{mcp.NewTextContent(string(text))}, IsError: true}
}

// Options configure New.
type Options struct {
	Tools   []tools.Tool
	Logger  *slog.Logger
	Version string
	// AgentLogin, when set, starts a browser login for a call that finds
	// no usable session, and offers it to the user through the client
	// (agentlogin.go); nil turns login from the agent off.
	AgentLogin *auth.AgentLogin
	// AskWait bounds a call's wait for the user to answer an elicitation,
	// LoginWait its wait for a login the user agreed to open; zero means
	// DefaultAskWait and DefaultLoginWait.
	AskWait, LoginWait time.Duration
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
	c := &calls{srv: s, logins: opts.AgentLogin, askWait: opts.AskWait, loginWait: opts.LoginWait, log: logger,
		loginWaiters: make(chan struct{}, maxLoginWaiters)}
	if c.askWait <= 0 {
		c.askWait = DefaultAskWait
	}
	if c.loginWait <= 0 {
		c.loginWait = DefaultLoginWait
	}
	for _, t := range opts.Tools {
		s.AddTool(Definition(t), handler(t, logger, c))
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
	if t.MaxResultChars > 0 {
		// Claude Code files a result over 50,000 characters away unless the
		// tool declares how large its results get.
		def.Meta = mcp.NewMetaFromMap(map[string]any{"anthropic/maxResultSizeChars": t.MaxResultChars})
	}
	return def
}

// calls is what every tool call shares: the server to elicit through,
// the questions asked, the login from the agent.
type calls struct {
	srv                *mcpserver.MCPServer
	questions          questions
	logins             *auth.AgentLogin
	askWait, loginWait time.Duration
	loginWaiters       chan struct{} // one per call waiting on the user
	log                *slog.Logger
}

// handler adapts a tool: arguments in, result or envelope out, a panic
// turned into an isError result, one log line per call. The tool gets an
// Asker for this call (elicit.go); a call that finds no session gets a
// login from the agent (agentlogin.go).
func handler(t tools.Tool, logger *slog.Logger, c *calls) mcpserver.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, _ error) {
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				logger.Error("tool panicked", "tool", t.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				res = errorResult(&envelope.Error{Reason: envelope.ReasonInternal,
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
		if err := checkStrings(args); err != nil {
			return errorResult(err), nil
		}
		ask := &asker{srv: c.srv, q: &c.questions, req: req, wait: c.askWait, log: logger}
		ctx = tools.WithAsker(ctx, ask)
		ctx = tools.WithClientInfo(ctx, clientInfo(ctx))
		out, err := c.agentLogin(ctx, ask, func(ctx context.Context) (any, error) {
			return t.Handler(ctx, args)
		})
		if ir, ok := isInputRequired(err); ok {
			// Not an error: the client asks the user and repeats the call.
			return ir.result(), nil
		}
		if err != nil {
			logger.Debug("tool failed", "tool", t.Name, "reason", envelope.From(err).Reason, "error", err)
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
		return nil, &envelope.Error{Reason: envelope.ReasonInvalidInput, Message: "arguments are not JSON", Remedy: "Send arguments as a JSON object."}
	}
	return b, nil
}

// checkStrings refuses arguments holding a string (or key) longer than
// MaxStringBytes, before any tool sees them: a tool given a 100 MB query
// spends memory and time in proportion. It reads the arguments as a
// stream of tokens, so it costs no more than one more pass over them.
func checkStrings(args json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(args))
	for {
		tok, err := dec.Token()
		if err != nil {
			// io.EOF, or arguments that are not JSON: the tool reports
			// the latter in its own words.
			return nil
		}
		if s, ok := tok.(string); ok && len(s) > MaxStringBytes {
			return &envelope.Error{Reason: envelope.ReasonInvalidInput,
				Message: fmt.Sprintf("An argument holds a string of %d bytes; clerk-mcp accepts strings up to %d bytes.", len(s), MaxStringBytes),
				Remedy:  "Send shorter arguments: a search query of a few words, a request body of what the endpoint needs."}
		}
	}
}

// clientInfo names the client behind a call, for the audit log: per
// request on protocol 2026-07-28, which has no initialize, else from the
// session's initialize.
func clientInfo(ctx context.Context) tools.ClientInfo {
	if info := mcpserver.RequestProtocolInfoFromContext(ctx); info != nil && info.ClientInfo != nil {
		return tools.ClientInfo{Name: info.ClientInfo.Name, Version: info.ClientInfo.Version}
	}
	if s, ok := mcpserver.ClientSessionFromContext(ctx).(mcpserver.SessionWithClientInfo); ok {
		ci := s.GetClientInfo()
		return tools.ClientInfo{Name: ci.Name, Version: ci.Version}
	}
	return tools.ClientInfo{}
}
