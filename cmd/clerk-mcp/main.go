// Command clerk-mcp is a local MCP server that gives AI coding agents
// authenticated access to Clerk, and the commands to log in and out.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGTERM is what editors and service managers send to stop a server
	// (and what Windows delivers for a closed console or a shutdown): it
	// ends the context like Ctrl-C, so that serve finishes its calls and
	// persists any refresh, and sandbox removes its directory.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A client that closes its end of stdout must not kill the process
	// with SIGPIPE mid-refresh: the write fails instead, and serve stops
	// as if stdin had closed.
	signal.Ignore(syscall.SIGPIPE)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
