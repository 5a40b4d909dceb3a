package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/clients"
	"github.com/clerk-mcp/clerk-mcp/tools"
)

// installFlags are the flags install and uninstall share.
type installFlags struct {
	client *string
	asJSON *bool
	noCLI  *bool
}

func (c *cli) installFlagSet(name string) (*flag.FlagSet, installFlags) {
	fs := c.flags(name)
	return fs, installFlags{
		client: fs.String("client", "", "one of: "+strings.Join(clients.Names(), ", ")),
		asJSON: fs.Bool("json", false, "print the result as JSON"),
		noCLI:  fs.Bool("no-cli", false, "edit the config file even when the client's own registration command is on PATH"),
	}
}

func (c *cli) install(ctx context.Context, args []string) int {
	fs, f := c.installFlagSet("install")
	print := fs.Bool("print", false, "show the configuration to add, without writing anything")
	command := fs.String("command", "", "the clerk-mcp binary the client should run (default: this one)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	client, code, ok := c.client(*f.client)
	if !ok {
		return code
	}
	bin := *command
	if bin == "" {
		var err error
		if bin, err = selfPath(); err != nil && !*print {
			return c.fail(*f.asJSON, installError(err.Error(), "Build or install clerk-mcp (`go install ./cmd/clerk-mcp`), then run `clerk-mcp install` from that binary, or pass --command PATH."))
		}
	}
	serveArgs := []string{"serve"}
	if *print {
		if *f.asJSON {
			c.printJSON(map[string]string{"client": client.Name, "path": client.Path(c.clientEnv()), "snippet": client.Snippet(bin, serveArgs)})
			return exitOK
		}
		fmt.Fprintf(c.stdout, "# %s: add to %s\n%s", client.Title, client.Path(c.clientEnv()), client.Snippet(bin, serveArgs))
		return exitOK
	}
	res, err := client.Install(ctx, clients.Options{Env: c.clientEnv(), Command: bin, Args: serveArgs, NoCLI: *f.noCLI})
	if err != nil {
		return c.fail(*f.asJSON, clientConfigError(err))
	}
	if *f.asJSON {
		c.printJSON(res)
		return exitOK
	}
	switch res.Action {
	case clients.Unchanged:
		fmt.Fprintf(c.stdout, "clerk-mcp is already installed in %s (%s); nothing changed.\n", res.Title, res.Path)
	default:
		fmt.Fprintf(c.stdout, "%s clerk-mcp in %s as %q, running %s serve.\n", capitalize(string(res.Action)), res.Title, clients.ServerName, bin)
		c.describeWrite(res)
		fmt.Fprintf(c.stdout, "Restart %s (or reload its MCP servers) to use it. Log in once with `clerk-mcp login` if you have not.\n", res.Title)
	}
	return exitOK
}

func (c *cli) uninstall(ctx context.Context, args []string) int {
	fs, f := c.installFlagSet("uninstall")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	client, code, ok := c.client(*f.client)
	if !ok {
		return code
	}
	res, err := client.Uninstall(ctx, clients.Options{Env: c.clientEnv(), NoCLI: *f.noCLI})
	if err != nil {
		return c.fail(*f.asJSON, clientConfigError(err))
	}
	if *f.asJSON {
		c.printJSON(res)
		return exitOK
	}
	if res.Action == clients.Absent {
		fmt.Fprintf(c.stdout, "clerk-mcp is not installed in %s (%s); nothing changed.\n", res.Title, res.Path)
		return exitOK
	}
	fmt.Fprintf(c.stdout, "Removed clerk-mcp from %s; other servers and settings were kept.\n", res.Title)
	c.describeWrite(res)
	return exitOK
}

func (c *cli) describeWrite(res *clients.Result) {
	if res.Via != "file" {
		fmt.Fprintf(c.stdout, "  via `%s`\n", res.Via)
	} else {
		fmt.Fprintf(c.stdout, "  config: %s\n", res.Path)
	}
	if res.Backup != "" {
		fmt.Fprintf(c.stdout, "  previous version saved as %s\n", res.Backup)
	}
}

// client resolves --client, or says what is missing (exit 2).
func (c *cli) client(name string) (*clients.Client, int, bool) {
	if name == "" {
		fmt.Fprintf(c.stderr, "clerk-mcp: --client is required (one of: %s)\n", strings.Join(clients.Names(), ", "))
		return nil, exitUsage, false
	}
	client, err := clients.Lookup(name)
	if err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp: %v\n", err)
		return nil, exitUsage, false
	}
	return client, 0, true
}

// clientEnv is where this user's client configs live.
func (c *cli) clientEnv() clients.Env {
	home := c.getenv("HOME")
	if runtime.GOOS == "windows" && c.getenv("USERPROFILE") != "" {
		home = c.getenv("USERPROFILE")
	}
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return clients.Env{GOOS: runtime.GOOS, Home: home, Getenv: c.getenv}
}

// selfPath is the absolute, symlink-free path of this binary, refused when
// it is a temporary `go run` build that will vanish.
func selfPath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find this binary: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	if strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return exe, errors.New("this is a temporary `go run` build, which is deleted when it exits")
	}
	return exe, nil
}

func installError(msg, remedy string) error {
	return &tools.Error{Reason: auth.ReasonInvalidInput, Message: msg, Remedy: remedy}
}

// clientConfigError turns a clients error into the envelope's terms.
func clientConfigError(err error) error {
	var me *clients.MalformedError
	if errors.As(err, &me) {
		return installError(fmt.Sprintf("%s is not valid (%v); it was not changed.", me.Path, me.Err),
			"Fix the file (or move it away) and run the command again.")
	}
	return installError(err.Error()+".", "Check the message; `--print` shows the configuration to add by hand.")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
