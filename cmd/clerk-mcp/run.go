package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/clients"
	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/store"
	"github.com/clerk-mcp/clerk-mcp/tools"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usage lists every command, one line each; a command's flags are in its
// own -h.
const usage = `clerk-mcp: Clerk for AI coding agents, over MCP.

Usage: clerk-mcp <command> [flags]

Commands:
  serve      run the MCP server on stdio (the default; editors start it)
  login      log in to Clerk in the browser
  logout     revoke the session at Clerk and delete it
  whoami     show who is logged in and where the session is stored
  refresh    refresh the session now and show the new expiry
  doctor     check configuration, session and connectivity
  profiles   list every stored session: profile, issuer, user, expiry, store
  audit      show the recent api writes agents made or tried: who, what, how allowed
  install    add clerk-mcp to an editor's MCP servers (--client NAME)
  uninstall  remove clerk-mcp from an editor's MCP servers (--client NAME)
  demo       try everything offline: a Clerk sandbox, login, every tool, a refresh
  sandbox    keep a Clerk sandbox running and print the environment that uses it
  version    print the version, commit and build date
  help       show this list

Run 'clerk-mcp <command> -h' for a command's flags. --profile NAME (or
CLERK_PROFILE) selects one of several sessions; --json prints JSON.
Configuration comes from the environment (CLERK_OAUTH_BASE_URL,
CLERK_CONFIG_DIR, CLERK_MCP_STORE, ...); see the README.
`

// cli carries what every command needs.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// profile is --profile, which overrides CLERK_PROFILE.
	profile string
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
	"profiles":  (*cli).profiles,
	"audit":     (*cli).auditCmd,
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	name := "serve"
	if len(args) > 0 {
		switch args[0] {
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		if !strings.HasPrefix(args[0], "-") {
			name, args = args[0], args[1:]
		}
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

// profileFlag adds --profile to fs, for the commands that use a session.
func (c *cli) profileFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.profile, "profile", "", "use this profile's session (default: $CLERK_PROFILE, else \"default\")")
}

// configEnv is the environment as the configuration sees it: --profile
// stands in for CLERK_PROFILE, so that both are checked alike.
func (c *cli) configEnv(name string) string {
	if name == "CLERK_PROFILE" && c.profile != "" {
		return c.profile
	}
	return c.getenv(name)
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
	// toolDeps is all of the above as the tools take it.
	toolDeps tools.Deps
}

func (c *cli) env() (*env, error) {
	return c.envWithLogger(nil)
}

func (c *cli) envWithLogger(logger *slog.Logger) (*env, error) {
	cfg, err := auth.ConfigFromEnv(c.configEnv)
	if err != nil {
		return nil, err
	}
	d, client, err := tools.NewDeps(cfg, auth.SourceOptions{Logger: logger})
	if err != nil {
		return nil, err
	}
	d.Clients = c.clientEnv()
	return &env{cfg: d.Config, store: d.Store, client: client, source: d.Source, clients: d.Clients, toolDeps: d}, nil
}

// deps is what the tools need, for serve and doctor.
func (e *env) deps() tools.Deps { return e.toolDeps }

// fail reports err: as the JSON envelope on stdout with --json, else as a
// line on stderr with the remedy addressed to the user. It returns
// exitFailure.
func (c *cli) fail(asJSON bool, err error) int {
	if asJSON {
		// Marshal, not printJSON: it copes with an undecodable errors
		// field from Clerk.
		var buf bytes.Buffer
		json.Indent(&buf, envelope.Marshal(err), "", "  ")
		buf.WriteByte('\n')
		c.stdout.Write(buf.Bytes())
		return exitFailure
	}
	e := envelope.From(err)
	fmt.Fprintf(c.stderr, "clerk-mcp: %s\n", strings.TrimSuffix(e.Message, "."))
	if r := e.UserRemedy(); r != "" {
		fmt.Fprintf(c.stderr, "  %s\n", r)
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
