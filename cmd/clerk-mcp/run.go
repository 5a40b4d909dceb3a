package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/clients"
	"github.com/clerk-mcp/clerk-mcp/server"
	"github.com/clerk-mcp/clerk-mcp/store"
	"github.com/clerk-mcp/clerk-mcp/tools"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

const usage = `clerk-mcp: Clerk for AI coding agents, over MCP.

Usage:
  clerk-mcp [serve]          run the MCP server on stdio (the default)
      --read-only            refuse every api call but GET
      --reveal-secrets       show secret key values in api results
      --log-level LEVEL      debug|info|warn|error, on stderr (default info)
      --log-file PATH        also log to PATH
  clerk-mcp login            log in to Clerk in the browser (--no-browser, --device, --timeout 2m, --json)
  clerk-mcp logout [--json]  revoke the session at Clerk and delete it
  clerk-mcp whoami [--json]  show who is logged in
  clerk-mcp refresh [--json] refresh the session now and show the new expiry
  clerk-mcp doctor [--json]  check configuration, session and connectivity (exit 1 on a failed check)
  clerk-mcp install --client NAME    add clerk-mcp to an editor's MCP servers (--print, --json, --no-cli)
  clerk-mcp uninstall --client NAME  remove it again, leaving everything else
      NAME: claude-desktop, claude-code, cursor, vscode, windsurf, codex, gemini
  clerk-mcp demo [--json]    try everything offline: a Clerk sandbox, login, every tool, a refresh
  clerk-mcp sandbox          keep a Clerk sandbox running and print the environment to use it
  clerk-mcp version [--json] print the version

Configuration comes from the environment (CLERK_OAUTH_BASE_URL,
CLERK_CONFIG_DIR, CLERK_MCP_STORE, ...); see the README.
`

// cli carries what every command needs.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command func(c *cli, ctx context.Context, args []string) int

var commands = map[string]command{
	"login":     (*cli).login,
	"logout":    (*cli).logout,
	"whoami":    (*cli).whoami,
	"refresh":   (*cli).refresh,
	"version":   (*cli).version,
	"serve":     (*cli).serve,
	"doctor":    (*cli).doctor,
	"install":   (*cli).install,
	"demo":      (*cli).demo,
	"sandbox":   (*cli).sandbox,
	"uninstall": (*cli).uninstall,
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	switch name {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "clerk-mcp: unknown command %q\n\n%s", name, usage)
		return exitUsage
	}
	return cmd(c, ctx, args)
}

// flags returns a FlagSet whose errors go to stderr.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("clerk-mcp "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	return fs
}

// parse parses args and reports whether the command should go on; on
// failure it returns the exit code.
func (c *cli) parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	return 0, true
}

// parseEnv parses args and loads the environment, for commands that need
// the session machinery; on failure it returns the exit code, reporting a
// configuration error as the envelope when asJSON.
func (c *cli) parseEnv(fs *flag.FlagSet, args []string, asJSON *bool) (*env, int, bool) {
	if code, ok := c.parse(fs, args); !ok {
		return nil, code, false
	}
	e, err := c.env()
	if err != nil {
		return nil, c.fail(*asJSON, configError(err)), false
	}
	return e, 0, true
}

// env loads the configuration and the session machinery.
type env struct {
	cfg    auth.Config
	store  *store.Store
	client *auth.Client
	source *auth.Source
	// clients is where this user's MCP client configs live.
	clients clients.Env
}

func (c *cli) env() (*env, error) {
	return c.envWithLogger(nil)
}

func (c *cli) envWithLogger(logger *slog.Logger) (*env, error) {
	cfg, err := auth.ConfigFromEnv(c.getenv)
	if err != nil {
		return nil, err
	}
	st, err := cfg.OpenStore()
	if err != nil {
		return nil, err
	}
	client := auth.NewClient(cfg, nil)
	return &env{cfg: cfg, store: st, client: client, clients: c.clientEnv(),
		source: auth.NewSource(st, client, auth.SourceOptions{Logger: logger})}, nil
}

// deps is what the tools need, for serve and doctor.
func (e *env) deps() tools.Deps {
	return tools.Deps{Config: e.cfg, Source: e.source, Store: e.store, HTTP: e.client.HTTPClient(), Clients: e.clients}
}

// fail reports err: as the JSON envelope on stdout with --json, else as a
// line on stderr. It returns exitFailure.
func (c *cli) fail(asJSON bool, err error) int {
	envelope := server.ErrorEnvelope(err)
	if asJSON {
		c.printJSON(envelope)
		return exitFailure
	}
	body := envelope["error"]
	fmt.Fprintf(c.stderr, "clerk-mcp: %s\n", strings.TrimSuffix(body.Message, "."))
	if body.Remedy != "" {
		fmt.Fprintf(c.stderr, "  %s\n", body.Remedy)
	}
	return exitFailure
}

// printJSONLine writes v as one line, for output read while the command
// keeps running.
func (c *cli) printJSONLine(v any) {
	json.NewEncoder(c.stdout).Encode(v)
}

func (c *cli) printJSON(v any) {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (c *cli) version(_ context.Context, args []string) int {
	fs := c.flags("version")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if *asJSON {
		c.printJSON(map[string]string{"version": buildVersion(), "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH})
		return exitOK
	}
	fmt.Fprintf(c.stdout, "clerk-mcp %s\n", buildVersion())
	return exitOK
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

// until describes how far t is from now, for humans.
func until(t time.Time) string {
	if t.IsZero() {
		return "no expiry given"
	}
	d := time.Until(t).Round(time.Second)
	if d < 0 {
		return fmt.Sprintf("%s (expired %s ago)", t.Local().Format(time.RFC3339), -d)
	}
	return fmt.Sprintf("%s (in %s)", t.Local().Format(time.RFC3339), d)
}
