package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"

	"github.com/clerk-mcp/clerk-mcp/internal/demo"
)

func (c *cli) demo(ctx context.Context, args []string) int {
	fs := c.flags("demo")
	asJSON := fs.Bool("json", false, "print the steps as JSON")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	out := c.stdout
	if *asJSON {
		out = c.stderr
	}
	steps, err := demo.Run(ctx, out, buildVersion())
	if err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp demo: %v\n", err)
		return exitFailure
	}
	if *asJSON {
		c.printJSON(steps)
	}
	return exitOK
}

func (c *cli) sandbox(ctx context.Context, args []string) int {
	fs := c.flags("sandbox")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (loopback only)")
	dir := fs.String("dir", "", "keep the sandbox's config directory here (default: a temporary one, removed on exit)")
	asJSON := fs.Bool("json", false, "print the environment as one JSON line once ready")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if host, _, _ := net.SplitHostPort(*addr); host != "127.0.0.1" && host != "localhost" && host != "::1" {
		fmt.Fprintf(c.stderr, "clerk-mcp sandbox: --addr must be a loopback address, got %q\n", *addr)
		return exitUsage
	}
	if *dir != "" {
		abs, err := filepath.Abs(*dir)
		if err != nil {
			fmt.Fprintf(c.stderr, "clerk-mcp sandbox: %v\n", err)
			return exitUsage
		}
		*dir = abs
	}
	var ready func(demo.SandboxEnv)
	if *asJSON {
		ready = func(env demo.SandboxEnv) { c.printJSONLine(env) }
	}
	if err := demo.Sandbox(ctx, *addr, *dir, c.invocation(), c.stdout, ready); err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp sandbox: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// invocation says how the user can run this binary again: by name when
// PATH finds this very binary, else by path. A temporary `go run` build
// has neither.
func (c *cli) invocation() demo.Invocation {
	exe, err := selfPath()
	if err != nil {
		return demo.Invocation{}
	}
	shell := exe
	if found, err := exec.LookPath("clerk-mcp"); err == nil {
		if resolved, err := filepath.EvalSymlinks(found); err == nil && resolved == exe {
			shell = "clerk-mcp"
		}
	}
	return demo.Invocation{Shell: shell, Command: exe}
}
