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

// Invocation says how a user runs this clerk-mcp.
type Invocation struct {
	// Shell is the command to type in another shell: "clerk-mcp" when
	// that is this binary on PATH, else the binary's path; empty for a
	// temporary build (go run) that exists only while it runs.
	Shell string
	// Command is the binary's absolute path for an editor entry; empty
	// for a temporary build.
	Command string
}

// Sandbox runs the sandbox on addr until ctx ends. It logs in once into a
// config directory of its own (under dir, or a temporary one), so that a
// clerk-mcp started with the printed environment is ready to use; `clerk-mcp
// login` with that environment also works and is approved at once. ready
// is called with the environment once the sandbox is serving.
func Sandbox(ctx context.Context, addr, dir string, self Invocation, out io.Writer, ready func(SandboxEnv)) error {
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
		printSandbox(out, env, self)
	}
	<-ctx.Done()
	return nil
}

// printSandbox tells the user how to reach the sandbox. A temporary
// build gets no editor entry and no command to run: both would point at
// a binary that is deleted when the sandbox stops.
func printSandbox(out io.Writer, env SandboxEnv, self Invocation) {
	fmt.Fprintf(out, "Clerk sandbox running at %s (Ctrl-C to stop). Logged in as %s.\n\n", env.URL, fakeclerk.DefaultUser.Email)
	fmt.Fprintf(out, "In another shell:\n\n")
	for _, k := range slices.Sorted(maps.Keys(env.Env)) {
		fmt.Fprintf(out, "  export %s=%s\n", k, env.Env[k])
	}
	if self.Shell == "" || self.Command == "" {
		fmt.Fprintf(out, "  go run ./cmd/clerk-mcp whoami\n\n"+
			"This sandbox runs from a temporary `go run` build. For an editor entry, build or install\n"+
			"clerk-mcp first (`go install ./cmd/clerk-mcp` puts it in $(go env GOPATH)/bin), then run\n"+
			"`clerk-mcp sandbox` from that binary.\n")
		return
	}
	fmt.Fprintf(out, "  %s whoami\n\nAn editor entry that uses the sandbox:\n\n", self.Shell)
	snippet, _ := json.MarshalIndent(map[string]any{"mcpServers": map[string]any{"clerk-sandbox": map[string]any{
		"command": self.Command, "args": []string{"serve"}, "env": env.Env}}}, "", "  ")
	fmt.Fprintf(out, "%s\n", snippet)
}
