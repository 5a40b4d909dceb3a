// Package demo runs clerk-mcp end to end against an embedded Clerk sandbox
// on loopback (internal/fakeclerk), for `clerk-mcp demo` and
// `clerk-mcp sandbox`: a new user sees login, every tool and a transparent
// refresh without a Clerk account or a network.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/server"
	"github.com/clerk-mcp/clerk-mcp/store"
	"github.com/clerk-mcp/clerk-mcp/tools"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// tokenLifetime is the sandbox's access-token lifetime in the demo: short,
// so that the refresh happens while the user watches.
const tokenLifetime = 3 * time.Second

// Step is one thing the demo did, for --json.
type Step struct {
	Title  string          `json:"title"`
	Tool   string          `json:"tool,omitempty"`
	Args   map[string]any  `json:"arguments,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Note   string          `json:"note,omitempty"`
}

// Run starts the sandbox in a throwaway config directory, logs in through
// the real PKCE flow, calls each tool through an MCP client, lets the access
// token expire and shows the next call refreshing it, then has a write to
// production confirmed by the user and shows the audit log. It writes a readable
// account to out, or returns the steps for JSON.
func Run(ctx context.Context, out io.Writer, version string) ([]Step, error) {
	fake, err := fakeclerk.NewOn("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the sandbox: %w", err)
	}
	defer fake.Close()
	fake.SetAccessTTL(tokenLifetime)
	dir, err := os.MkdirTemp("", "clerk-mcp-demo")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg := sandboxConfig(fake, filepath.Join(dir, "config"))
	deps, oauth, err := tools.NewDeps(cfg, auth.SourceOptions{})
	if err != nil {
		return nil, err
	}
	// The default --confirm policy, and the audit log `clerk-mcp audit`
	// reads, as `serve` has them.
	deps.Confirm, deps.Audit = tools.ConfirmProduction, audit.New(cfg.ConfigDir)
	st, src := deps.Store, deps.Source
	var steps []Step
	say := func(format string, args ...any) { fmt.Fprintf(out, format, args...) }

	say("Started a Clerk sandbox at %s (no account, no network), config in %s.\n\n", fake.URL, dir)
	say("1. clerk-mcp login (browser PKCE flow; the sandbox approves at once)\n")
	res, err := auth.Login(ctx, oauth, st, auth.LoginOptions{Timeout: 30 * time.Second, Out: io.Discard, Open: visit})
	if err != nil {
		return nil, fmt.Errorf("demo login: %w", err)
	}
	say("   Logged in as %s <%s>; session stored in %s\n\n", res.User.Name, res.User.Email, res.Location)
	steps = append(steps, Step{Title: "login", Note: "logged in as " + res.User.Email})

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	agent := auth.NewAgentLogin(oauth, st, auth.AgentLoginOptions{})
	defer agent.Close()
	c, err := client.NewInProcessClient(server.New(server.Options{Tools: tools.All(deps), Logger: logger, Version: version, AgentLogin: agent}))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "clerk-mcp demo", Version: version}
	if _, err := c.Initialize(ctx, init); err != nil {
		return nil, err
	}
	list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range list.Tools {
		names = append(names, t.Name)
	}
	say("2. An MCP client connects and lists the tools: %s\n\n", strings.Join(names, ", "))

	calls := []struct {
		title, tool string
		args        map[string]any
	}{
		{"Who is this server acting as?", "whoami", nil},
		{"Which endpoint lists users?", "api_endpoints", map[string]any{"query": "list users", "limit": 3}},
		{"List the applications (Platform API, with the OAuth session)", "api", map[string]any{"path": "/applications"}},
		{"List users (Backend API; the instance's secret key is resolved and masked)", "api",
			map[string]any{"target": "backend", "path": "/users", "application_id": fake.ApplicationID()}},
		{"Check everything", "doctor", nil},
	}
	for i, call := range calls {
		text, err := callTool(ctx, c, call.tool, call.args)
		if err != nil {
			return nil, err
		}
		shown := shorten(text, 14)
		if call.tool == "doctor" {
			shown = summarizeDoctor(text)
		}
		say("%d. %s\n   tools/call %s %s\n%s\n\n", i+3, call.title, call.tool, compact(call.args), indent(shown, "   "))
		steps = append(steps, Step{Title: call.title, Tool: call.tool, Args: call.args, Result: json.RawMessage(text)})
	}

	n := len(calls) + 3
	step, err := agentLogin(ctx, c, oauth, st, say, n)
	if err != nil {
		return nil, err
	}
	steps = append(steps, step)
	n++

	tok, _ := src.Token(ctx)
	before := fake.Counts().Refreshes
	say("%d. The access token lives %s; waiting for it to expire (%s)...\n", n, tokenLifetime, tok.Expiry.Local().Format("15:04:05"))
	select {
	case <-time.After(time.Until(tok.Expiry) + 200*time.Millisecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	text, err := callTool(ctx, c, "whoami", nil)
	if err != nil {
		return nil, err
	}
	after, _ := src.Token(ctx)
	refreshes := fake.Counts().Refreshes - before
	if stored, err := st.Load(ctx); err != nil || !fake.RefreshTokenValid(stored.RefreshToken) || stored.AccessToken != after.AccessToken {
		return nil, fmt.Errorf("demo: the refreshed session was not saved (%v)", err)
	}
	note := fmt.Sprintf("the expired token was refreshed transparently: %d refresh, new token valid until %s, refresh token rotated and saved; no login needed",
		refreshes, after.Expiry.Local().Format("15:04:05"))
	say("   tools/call whoami still works:\n%s\n   %s.\n\n", indent(shorten(text, 8), "   "), note)
	steps = append(steps, Step{Title: "refresh after expiry", Tool: "whoami", Result: json.RawMessage(text), Note: note})
	if refreshes != 1 {
		return nil, fmt.Errorf("demo: expected one refresh after expiry, saw %d", refreshes)
	}
	n++

	step, err = confirmWrite(ctx, c, fake, deps.Audit, say, n)
	if err != nil {
		return nil, err
	}
	steps = append(steps, step)
	say("Done. To use clerk-mcp with your Clerk account: `clerk-mcp login`, then `clerk-mcp install --client cursor` (or claude-code, vscode, ...).\n")
	say("To point an editor at this sandbox instead, run `clerk-mcp sandbox`.\n")
	return steps, nil
}

// confirmWrite shows a consequential call confirmed by the user: a write
// to a production instance through api returns confirmation_required with
// a summary (the demo's client, like many editors, cannot ask the user
// itself), the agent shows the summary, the user agrees, and the call
// repeated with the token is sent. The audit log then holds both calls.
func confirmWrite(ctx context.Context, c *client.Client, fake *fakeclerk.Server, log *audit.Log, say func(string, ...any), n int) (Step, error) {
	args := map[string]any{"target": "backend", "method": "POST", "path": "/users",
		"application_id": fake.ApplicationID(), "instance": "production",
		"body": map[string]any{"first_name": "Grace", "last_name": "Hopper", "email_address": []string{"grace@example.com"}}}
	say("%d. A write to production needs the user's yes (serve --confirm production, the default)\n", n)
	say("   tools/call api %s\n", compact(args))
	req := mcp.CallToolRequest{}
	req.Params.Name = "api"
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return Step{}, fmt.Errorf("demo: api: %w", err)
	}
	var env struct {
		Error struct {
			Reason       string `json:"reason"`
			Confirmation struct {
				Summary string `json:"summary"`
				Token   string `json:"token"`
			} `json:"confirmation"`
		} `json:"error"`
	}
	text := res.Content[0].(mcp.TextContent).Text
	json.Unmarshal([]byte(text), &env)
	if !res.IsError || env.Error.Reason != "confirmation_required" || env.Error.Confirmation.Token == "" {
		return Step{}, fmt.Errorf("demo: a production write did not ask for confirmation: %s", text)
	}
	say("   -> %s; nothing was sent. The agent shows the user confirmation.summary:\n", env.Error.Reason)
	say("      %s\n", env.Error.Confirmation.Summary)
	say("   The user agrees, so the agent repeats the same call with \"confirm\": %q (single use, 5 minutes):\n",
		shortenLine(env.Error.Confirmation.Token, 8))
	args["confirm"] = env.Error.Confirmation.Token
	sent, err := callTool(ctx, c, "api", args)
	if err != nil {
		return Step{}, err
	}
	var created struct {
		Status int
		Body   struct{ ID string }
	}
	json.Unmarshal([]byte(sent), &created)
	say("   -> status %d: user %s created on the production instance.\n", created.Status, created.Body.ID)

	entries, err := log.Recent(0)
	if err != nil {
		return Step{}, fmt.Errorf("demo: read the audit log: %w", err)
	}
	if len(entries) != 2 || entries[0].Refused != audit.RefusedConfirmationRequired || entries[1].Allowed != audit.AllowedToken {
		return Step{}, fmt.Errorf("demo: the audit log does not hold the refused and the confirmed write: %+v", entries)
	}
	say("   clerk-mcp audit (%s):\n", log.Path())
	var table strings.Builder
	audit.WriteTable(&table, entries)
	say("%s\n", indent(strings.TrimSuffix(table.String(), "\n"), "   "))
	note := fmt.Sprintf("a production write returned confirmation_required with a summary; the user agreed and the call repeated with confirm was sent; the audit log holds %d entries", len(entries))
	say("   %s.\n\n", note)
	return Step{Title: "confirm a production write", Tool: "api", Args: args, Result: json.RawMessage(sent), Note: note}, nil
}

// sandboxConfig is clerk-mcp's configuration for the sandbox: all APIs on
// the fake, a file store in dir (never the user's keyring or session).
func sandboxConfig(fake *fakeclerk.Server, dir string) auth.Config {
	return auth.Config{BaseURL: fake.URL, ClientID: fakeclerk.ClientID, PlatformAPIURL: fake.URL,
		BackendAPIURL: fake.URL, ConfigDir: dir, StoreMode: store.ModeFile}
}

// visit plays the browser: it opens the authorize URL and follows the
// sandbox's redirect into clerk-mcp's loopback callback.
func visit(u string) error {
	go func() {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
		}
	}()
	return nil
}

func callTool(ctx context.Context, c *client.Client, name string, args map[string]any) (string, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return "", fmt.Errorf("demo: %s: %w", name, err)
	}
	text := res.Content[0].(mcp.TextContent).Text
	if res.IsError {
		return "", fmt.Errorf("demo: %s failed: %s", name, text)
	}
	var pretty any
	json.Unmarshal([]byte(text), &pretty)
	out, _ := json.MarshalIndent(pretty, "", "  ")
	return string(out), nil
}

// summarizeDoctor renders a doctor report as one line per check.
func summarizeDoctor(text string) string {
	var rep tools.DoctorReport
	if json.Unmarshal([]byte(text), &rep) != nil {
		return shorten(text, 14)
	}
	lines := []string{fmt.Sprintf("ok: %v", rep.OK)}
	for _, c := range rep.Checks {
		lines = append(lines, fmt.Sprintf("[%s] %-15s %s", c.Status, c.Name, shortenLine(c.Message, 90)))
	}
	return strings.Join(lines, "\n")
}

func shortenLine(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func compact(args map[string]any) string {
	if args == nil {
		return "{}"
	}
	b, _ := json.Marshal(args)
	return string(b)
}

// shorten keeps the first n lines of s.
func shorten(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "\n") + fmt.Sprintf("\n  ... (%d more lines)", len(lines)-n)
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
