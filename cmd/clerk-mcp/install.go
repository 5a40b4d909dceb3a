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

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/clients"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// installFlags are the flags install and uninstall share.
type installFlags struct {
	client *string
	asJSON *bool
	noCLI  *bool
	force  *bool
}

// entryFor is the editor entry that serves profile: "clerk" running
// `serve` for the default profile, "clerk-NAME" running
// `serve --profile NAME` for another, so that both can be installed side
// by side.
func entryFor(client *clients.Client, profile string) (named *clients.Client, name string, serveArgs []string) {
	if profile == store.DefaultProfile {
		return client, clients.ServerName, []string{"serve"}
	}
	name = clients.ServerName + "-" + profile
	return client.Named(name), name, []string{"serve", "--profile", profile}
}

// checkProfile validates --profile for install and uninstall, which
// otherwise need no configuration.
func (c *cli) checkProfile() (string, int, bool) {
	p := c.configEnv("CLERK_PROFILE")
	if p == "" {
		return store.DefaultProfile, 0, true
	}
	if err := store.CheckProfile(p); err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp: --profile: %v\n", err)
		return "", exitUsage, false
	}
	return p, 0, true
}

func (c *cli) installFlagSet(name string) (*flag.FlagSet, installFlags) {
	fs := c.flags(name)
	c.profileFlag(fs)
	return fs, installFlags{
		client: fs.String("client", "", "one of: "+strings.Join(clients.Names(), ", ")),
		asJSON: fs.Bool("json", false, "print the result as JSON"),
		noCLI:  fs.Bool("no-cli", false, "edit the config file even when the client's own registration command is on PATH"),
		force:  fs.Bool("force", false, "replace (or remove) an entry named \"clerk\" that runs another program"),
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
	profile, code, ok := c.checkProfile()
	if !ok {
		return code
	}
	client, name, serveArgs := entryFor(client, profile)
	bin := *command
	if bin == "" {
		var err error
		if bin, err = selfPath(); err != nil {
			if !*print {
				return c.fail(*f.asJSON, installError(err.Error()+".", remedyTemporaryBuild))
			}
			// --print writes nothing, but what it prints would break
			// the same way once pasted.
			fmt.Fprintf(c.stderr, "warning: %s, and the entry below points at it.\n  %s\n", err, remedyTemporaryBuild)
		}
	} else {
		var err error
		if bin, err = absCommand(bin); err != nil {
			return c.fail(*f.asJSON, installError(err.Error(), "Pass the absolute path of the clerk-mcp binary, for example --command \"$(command -v clerk-mcp)\"."))
		}
	}
	if *print {
		snippet, err := client.Snippet(bin, serveArgs)
		if err != nil {
			return c.fail(*f.asJSON, installError(fmt.Sprintf("cannot write the entry for %s: %v.", bin, err), "Pass --command with a path that is valid UTF-8."))
		}
		if *f.asJSON {
			c.printJSON(map[string]string{"client": client.Name, "path": client.Path(c.clientEnv()), "snippet": snippet})
			return exitOK
		}
		fmt.Fprintf(c.stdout, "# %s: add to %s\n%s", client.Title, client.Path(c.clientEnv()), snippet)
		return exitOK
	}
	res, err := client.Install(ctx, clients.Options{Env: c.clientEnv(), Command: bin, Args: serveArgs, NoCLI: *f.noCLI, Force: *f.force})
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
		fmt.Fprintf(c.stdout, "%s clerk-mcp in %s as %q, running %s.\n", capitalize(string(res.Action)), res.Title, name, strings.Join(append([]string{bin}, res.Args...), " "))
		c.describeWrite(res)
		login := "clerk-mcp login"
		if profile != store.DefaultProfile {
			login += " --profile " + profile
		}
		fmt.Fprintf(c.stdout, "Restart %s (or reload its MCP servers) to use it. Log in once with `%s` if you have not.\n", res.Title, login)
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
	profile, code, ok := c.checkProfile()
	if !ok {
		return code
	}
	client, _, _ = entryFor(client, profile)
	res, err := client.Uninstall(ctx, clients.Options{Env: c.clientEnv(), NoCLI: *f.noCLI, Force: *f.force})
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

// absCommand makes a --command path absolute: the client starts servers
// from a directory of its own, where a relative path means something else
// or nothing. A relative path that names no file here is refused rather
// than guessed at (a bare "clerk-mcp" is more likely meant for PATH).
func absCommand(path string) (string, error) {
	if filepath.IsAbs(path) {
		return path, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("cannot make --command %q absolute: %w", path, err)
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
		return "", fmt.Errorf("--command %q is a relative path, and %s is not a program", path, abs)
	}
	return abs, nil
}

// remedyTemporaryBuild says how to get a binary that outlives the command.
const remedyTemporaryBuild = "Build or install clerk-mcp (`go install ./cmd/clerk-mcp`), then run `clerk-mcp install` from that binary, or pass --command PATH."

func installError(msg, remedy string) error {
	return &envelope.Error{Reason: envelope.ReasonInvalidInput, Message: msg, Remedy: remedy}
}

// clientConfigError turns a clients error into the envelope's terms.
func clientConfigError(err error) error {
	var fe *clients.ForeignEntryError
	if errors.As(err, &fe) {
		verb := "replace"
		if fe.Remove {
			verb = "remove"
		}
		return installError(err.Error()+".",
			fmt.Sprintf("Rerun with --force to %s that entry (the file is backed up first), or rename it in %s to keep both.", verb, fe.Path))
	}
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
