package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// agentLogin shows a login started from the agent: after a logout, the
// next call finds no session, so the server starts the browser login and
// answers not_logged_in with login_url; the user opens it (the demo plays
// the browser, the sandbox approves at once) and the retried call works.
func agentLogin(ctx context.Context, c *client.Client, oauth *auth.Client, st auth.SessionStore, say func(string, ...any), n int) (Step, error) {
	say("%d. Log in from the agent: after `clerk-mcp logout`, the next call finds no session\n", n)
	if _, err := auth.Logout(ctx, oauth, st); err != nil {
		return Step{}, fmt.Errorf("demo logout: %w", err)
	}
	// A running server notices a logout within a second (auth.DefaultRecheck).
	select {
	case <-time.After(auth.DefaultRecheck + 100*time.Millisecond):
	case <-ctx.Done():
		return Step{}, ctx.Err()
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "whoami"
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return Step{}, fmt.Errorf("demo: whoami: %w", err)
	}
	var env struct {
		Error struct {
			Reason         string `json:"reason"`
			LoginURL       string `json:"login_url"`
			LoginExpiresAt string `json:"login_expires_at"`
		} `json:"error"`
	}
	json.Unmarshal([]byte(res.Content[0].(mcp.TextContent).Text), &env)
	if !res.IsError || env.Error.LoginURL == "" {
		return Step{}, fmt.Errorf("demo: whoami without a session did not offer a login: %s", res.Content[0].(mcp.TextContent).Text)
	}
	// The link's query holds this login's state: show where it goes, not
	// the whole of it.
	shown, _, _ := strings.Cut(env.Error.LoginURL, "?")
	say("   tools/call whoami -> %s, with a link for the user (login_url %s?..., valid until %s).\n",
		env.Error.Reason, shown, env.Error.LoginExpiresAt)
	say("   The server listens on 127.0.0.1 for the browser; it opens nothing itself. The user opens the link...\n")
	if err := visit(env.Error.LoginURL); err != nil {
		return Step{}, err
	}
	// The agent retries once the user says they logged in.
	var text string
	for deadline := time.Now().Add(30 * time.Second); ; {
		text, err = callTool(ctx, c, "whoami", nil)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return Step{}, err
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return Step{}, ctx.Err()
		}
	}
	note := "logged in from the agent: not_logged_in came with login_url, the user opened it, the retry worked"
	say("   ...and the agent's retry works:\n%s\n   %s.\n\n", indent(shorten(text, 8), "   "), note)
	return Step{Title: "login from the agent", Tool: "whoami", Result: json.RawMessage(text), Note: note}, nil
}
