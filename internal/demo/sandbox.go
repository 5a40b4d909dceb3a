package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
)

// SandboxEnv is the environment that points clerk-mcp at a sandbox.
type SandboxEnv struct {
	URL string            `json:"url"`
	Env map[string]string `json:"env"`
}

// Sandbox runs the sandbox on addr until ctx ends. It logs in once into a
// config directory of its own (under dir, or a temporary one), so that a
// clerk-mcp started with the printed environment is ready to use; `clerk-mcp
// login` with that environment also works and is approved at once. ready
// is called with the environment once the sandbox is serving.
func Sandbox(ctx context.Context, addr, dir, command string, out io.Writer, ready func(SandboxEnv)) error {
	fake, err := fakeclerk.NewOn(addr)
	if err != nil {
		return fmt.Errorf("start the sandbox on %s: %w", addr, err)
	}
	defer fake.Close()
	if dir == "" {
		if dir, err = os.MkdirTemp("", "clerk-mcp-sandbox"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	cfg := sandboxConfig(fake, filepath.Join(dir, "config"))
	st, err := cfg.OpenStore()
	if err != nil {
		return err
	}
	if _, err := auth.Login(ctx, auth.NewClient(cfg, nil), st, auth.LoginOptions{Timeout: 30 * time.Second, Open: visit}); err != nil {
		return fmt.Errorf("sandbox login: %w", err)
	}
	env := SandboxEnv{URL: fake.URL, Env: map[string]string{
		"CLERK_OAUTH_BASE_URL":   fake.URL,
		"CLERK_PLATFORM_API_URL": fake.URL,
		"CLERK_BACKEND_API_URL":  fake.URL,
		"CLERK_CONFIG_DIR":       cfg.ConfigDir,
		"CLERK_MCP_STORE":        "file",
	}}
	if ready != nil {
		ready(env)
	} else {
		printSandbox(out, env, command)
	}
	<-ctx.Done()
	return nil
}

func printSandbox(out io.Writer, env SandboxEnv, command string) {
	fmt.Fprintf(out, "Clerk sandbox running at %s (Ctrl-C to stop). Logged in as %s.\n\n", env.URL, fakeclerk.DefaultUser.Email)
	fmt.Fprintf(out, "In another shell:\n\n")
	for _, k := range slices.Sorted(maps.Keys(env.Env)) {
		fmt.Fprintf(out, "  export %s=%s\n", k, env.Env[k])
	}
	fmt.Fprintf(out, "  clerk-mcp whoami\n\nAn editor entry that uses the sandbox:\n\n")
	snippet, _ := json.MarshalIndent(map[string]any{"mcpServers": map[string]any{"clerk-sandbox": map[string]any{
		"command": command, "args": []string{"serve"}, "env": env.Env}}}, "", "  ")
	fmt.Fprintf(out, "%s\n", snippet)
}
