// Package clients adds clerk-mcp to the user configuration of MCP clients
// (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Codex, Gemini
// CLI) and takes it out again. It edits only the entry named "clerk": every
// other server, setting and comment is kept, the previous file is backed up,
// the write is atomic, and a malformed file is reported and left alone.
// Where a client ships a registration command on PATH (`claude mcp add`,
// `code --add-mcp`, `codex mcp add`, `gemini mcp add`) that is used instead.
package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// ServerName is the name of clerk-mcp's entry in every client.
const ServerName = "clerk"

// Env says where a user's configuration lives.
type Env struct {
	GOOS   string              // runtime.GOOS
	Home   string              // the user's home directory
	Getenv func(string) string // APPDATA, XDG_CONFIG_HOME, CODEX_HOME
}

func (e Env) get(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

// appConfigDir is where desktop applications keep per-user settings:
// ~/Library/Application Support, %APPDATA%, or $XDG_CONFIG_HOME (~/.config).
func (e Env) appConfigDir() string {
	switch e.GOOS {
	case "darwin":
		return filepath.Join(e.Home, "Library", "Application Support")
	case "windows":
		if d := e.get("APPDATA"); d != "" {
			return d
		}
		return filepath.Join(e.Home, "AppData", "Roaming")
	default:
		if d := e.get("XDG_CONFIG_HOME"); d != "" {
			return d
		}
		return filepath.Join(e.Home, ".config")
	}
}

// Client is one MCP client and where it keeps its servers.
type Client struct {
	Name  string // as given to --client
	Title string // as shown to the user
	// path is the user-level config file.
	path func(Env) string
	// servers is the key path to the object holding servers by name
	// (JSON), or the table name (TOML, one element).
	servers []string
	toml    bool
	// entry is our server's entry.
	entry func(command string, args []string) any
	// cli, when set, is the client's own registration command.
	cli *registrar
}

// registrar is a client's command for adding and removing servers.
type registrar struct {
	program string
	add     func(command string, args []string) []string
	remove  []string // nil when there is none: the file is edited instead
}

type stdioEntry struct {
	Type    string   `json:"type,omitempty"`
	Command string   `json:"command"`
	Args    []string `json:"args"`
}

func plainEntry(command string, args []string) any { return stdioEntry{Command: command, Args: args} }
func typedEntry(command string, args []string) any {
	return stdioEntry{Type: "stdio", Command: command, Args: args}
}

var all = []*Client{
	{
		Name: "claude-desktop", Title: "Claude Desktop",
		path: func(e Env) string {
			return filepath.Join(e.appConfigDir(), "Claude", "claude_desktop_config.json")
		},
		servers: []string{"mcpServers"}, entry: plainEntry,
	},
	{
		Name: "claude-code", Title: "Claude Code",
		path:    func(e Env) string { return filepath.Join(e.Home, ".claude.json") },
		servers: []string{"mcpServers"}, entry: typedEntry,
		cli: &registrar{program: "claude",
			add: func(command string, args []string) []string {
				return append([]string{"mcp", "add", "--scope", "user", ServerName, "--", command}, args...)
			},
			remove: []string{"mcp", "remove", "--scope", "user", ServerName}},
	},
	{
		Name: "cursor", Title: "Cursor",
		path:    func(e Env) string { return filepath.Join(e.Home, ".cursor", "mcp.json") },
		servers: []string{"mcpServers"}, entry: plainEntry,
	},
	{
		Name: "vscode", Title: "VS Code",
		path:    func(e Env) string { return filepath.Join(e.appConfigDir(), "Code", "User", "mcp.json") },
		servers: []string{"servers"}, entry: typedEntry,
		cli: &registrar{program: "code",
			add: func(command string, args []string) []string {
				spec, _ := json.Marshal(struct {
					Name string `json:"name"`
					stdioEntry
				}{ServerName, stdioEntry{Type: "stdio", Command: command, Args: args}})
				return []string{"--add-mcp", string(spec)}
			}},
	},
	{
		Name: "windsurf", Title: "Windsurf",
		path:    func(e Env) string { return filepath.Join(e.Home, ".codeium", "windsurf", "mcp_config.json") },
		servers: []string{"mcpServers"}, entry: plainEntry,
	},
	{
		Name: "codex", Title: "Codex",
		path: func(e Env) string {
			if d := e.get("CODEX_HOME"); d != "" {
				return filepath.Join(d, "config.toml")
			}
			return filepath.Join(e.Home, ".codex", "config.toml")
		},
		servers: []string{"mcp_servers"}, toml: true,
		cli: &registrar{program: "codex",
			add: func(command string, args []string) []string {
				return append([]string{"mcp", "add", ServerName, "--", command}, args...)
			},
			remove: []string{"mcp", "remove", ServerName}},
	},
	{
		Name: "gemini", Title: "Gemini CLI",
		path:    func(e Env) string { return filepath.Join(e.Home, ".gemini", "settings.json") },
		servers: []string{"mcpServers"}, entry: plainEntry,
		cli: &registrar{program: "gemini",
			add: func(command string, args []string) []string {
				return append([]string{"mcp", "add", "--scope", "user", ServerName, command}, args...)
			},
			remove: []string{"mcp", "remove", "--scope", "user", ServerName}},
	},
}

// All returns every supported client.
func All() []*Client { return slices.Clone(all) }

// Names lists the supported clients' names.
func Names() []string {
	var names []string
	for _, c := range all {
		names = append(names, c.Name)
	}
	return names
}

// Lookup returns the client called name.
func Lookup(name string) (*Client, error) {
	for _, c := range all {
		if c.Name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("unknown client %q (want one of %s)", name, strings.Join(Names(), ", "))
}

// Path returns the client's user config file in env.
func (c *Client) Path(env Env) string { return c.path(env) }

// Action is what an install or uninstall did.
type Action string

// Actions.
const (
	Installed Action = "installed" // added where there was no entry
	Updated   Action = "updated"   // replaced an entry with another command
	Unchanged Action = "unchanged" // the entry was already there as wanted
	Removed   Action = "removed"
	Absent    Action = "absent" // nothing to remove
)

// Result reports an install or uninstall.
type Result struct {
	Client string `json:"client"`
	Title  string `json:"title"`
	Path   string `json:"path"`
	Action Action `json:"action"`
	// Via is "file", or the registration command that was run.
	Via    string `json:"via"`
	Backup string `json:"backup,omitempty"`
}

// Options are the inputs of Install and Uninstall.
type Options struct {
	Env Env
	// Command is the absolute path of the clerk-mcp binary; Args its
	// arguments (["serve"]).
	Command string
	Args    []string
	// NoCLI edits the file even when the client's command is on PATH.
	NoCLI bool
	// LookPath and Run default to exec.LookPath and running the command;
	// tests replace them.
	LookPath func(string) (string, error)
	Run      func(ctx context.Context, program string, args ...string) ([]byte, error)
}

func (o *Options) defaults() {
	if o.LookPath == nil {
		o.LookPath = exec.LookPath
	}
	if o.Run == nil {
		o.Run = func(ctx context.Context, program string, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, program, args...).CombinedOutput()
		}
	}
}

// Snippet is the configuration Install would write, for --print.
func (c *Client) Snippet(command string, args []string) string {
	if c.toml {
		var quoted []string
		for _, a := range args {
			quoted = append(quoted, fmt.Sprintf("%q", a))
		}
		return fmt.Sprintf("[%s.%s]\ncommand = %q\nargs = [%s]\n", c.servers[0], ServerName, command, strings.Join(quoted, ", "))
	}
	var v any = orderedObject{{ServerName, c.entry(command, args)}}
	for i := len(c.servers) - 1; i >= 0; i-- {
		v = orderedObject{{c.servers[i], v}}
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return string(out) + "\n"
}

// Entry is clerk-mcp's entry as a client's file holds it.
type Entry struct {
	Command string
	Args    []string
}

// Status reads the client's config file: whether it has an entry for
// clerk-mcp, and which. A missing file is no entry.
func (c *Client) Status(env Env) (*Entry, error) {
	_, current, err := c.read(c.path(env))
	return current, err
}

func (c *Client) entryIn(path string, src []byte) (*Entry, error) {
	if c.toml {
		command, args, found, err := tomlServer(src, c.servers[0], ServerName)
		if err != nil {
			return nil, &MalformedError{Path: path, Err: err}
		}
		if !found {
			return nil, nil
		}
		return &Entry{Command: command, Args: args}, nil
	}
	raw, found, err := lookupMember(src, c.servers, ServerName)
	if err != nil {
		return nil, &MalformedError{Path: path, Err: err}
	}
	if !found {
		return nil, nil
	}
	var e stdioEntry
	json.Unmarshal(raw, &e)
	return &Entry{Command: e.Command, Args: e.Args}, nil
}

// Install adds clerk-mcp to the client, or replaces its entry when the
// command differs. Run twice, the second run changes nothing.
func (c *Client) Install(ctx context.Context, opts Options) (*Result, error) {
	opts.defaults()
	path := c.path(opts.Env)
	res := &Result{Client: c.Name, Title: c.Title, Path: path, Via: "file"}
	src, current, err := c.read(path)
	if err != nil {
		return nil, err
	}
	switch {
	case current == nil:
		res.Action = Installed
	case current.Command == opts.Command && slices.Equal(current.Args, opts.Args):
		res.Action = Unchanged
		return res, nil
	default:
		res.Action = Updated
	}
	if program, ok := c.registrar(opts); ok {
		if res.Backup, err = backup(path, src); err != nil {
			return nil, err
		}
		if current != nil && c.cli.remove != nil {
			if out, err := opts.Run(ctx, program, c.cli.remove...); err != nil {
				return nil, cliError(program, c.cli.remove, out, err)
			}
		}
		args := c.cli.add(opts.Command, opts.Args)
		if out, err := opts.Run(ctx, program, args...); err != nil {
			return nil, cliError(program, args, out, err)
		}
		res.Via = c.cli.program + " " + strings.Join(args[:min(2, len(args))], " ")
		return res, nil
	}
	var updated []byte
	if c.toml {
		updated, err = tomlSetServer(src, c.servers[0], ServerName, opts.Command, opts.Args)
	} else {
		updated, err = setMember(src, c.servers, ServerName, c.entry(opts.Command, opts.Args))
	}
	if err != nil {
		return nil, &MalformedError{Path: path, Err: err}
	}
	if res.Backup, err = backup(path, src); err != nil {
		return nil, err
	}
	return res, writeConfig(path, updated)
}

// Uninstall removes clerk-mcp's entry and nothing else.
func (c *Client) Uninstall(ctx context.Context, opts Options) (*Result, error) {
	opts.defaults()
	path := c.path(opts.Env)
	res := &Result{Client: c.Name, Title: c.Title, Path: path, Via: "file", Action: Removed}
	src, current, err := c.read(path)
	if err != nil {
		return nil, err
	}
	if current == nil {
		res.Action = Absent
		return res, nil
	}
	if program, ok := c.registrar(opts); ok && c.cli.remove != nil {
		if res.Backup, err = backup(path, src); err != nil {
			return nil, err
		}
		if out, err := opts.Run(ctx, program, c.cli.remove...); err != nil {
			return nil, cliError(program, c.cli.remove, out, err)
		}
		res.Via = c.cli.program + " " + strings.Join(c.cli.remove[:2], " ")
		return res, nil
	}
	var updated []byte
	if c.toml {
		updated, _, err = tomlRemoveServer(src, c.servers[0], ServerName)
	} else {
		updated, _, err = removeMember(src, c.servers, ServerName)
	}
	if err != nil {
		return nil, &MalformedError{Path: path, Err: err}
	}
	if res.Backup, err = backup(path, src); err != nil {
		return nil, err
	}
	return res, writeConfig(path, updated)
}

// registrar returns the client's registration program when it is to be
// used: it exists, is on PATH, and NoCLI is not set.
func (c *Client) registrar(opts Options) (string, bool) {
	if c.cli == nil || opts.NoCLI {
		return "", false
	}
	program, err := opts.LookPath(c.cli.program)
	return program, err == nil
}

func cliError(program string, args []string, out []byte, err error) error {
	msg := strings.TrimSpace(string(bytes.ToValidUTF8(out, nil)))
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return fmt.Errorf("%s %s: %w: %s (rerun with --no-cli to edit the config file instead)",
		filepath.Base(program), strings.Join(args[:min(2, len(args))], " "), err, msg)
}

// read returns the config file's contents (nil when it does not exist)
// and our entry in it (nil when there is none).
func (c *Client) read(path string) ([]byte, *Entry, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	current, err := c.entryIn(path, src)
	return src, current, err
}

// backup saves the previous contents beside the file as NAME.bak, 0600
// (configs can hold other servers' secrets). Nothing to back up is no
// backup.
func backup(path string, src []byte) (string, error) {
	if src == nil {
		return "", nil
	}
	bak := path + ".bak"
	if err := writeAtomic(bak, src, 0o600); err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	return bak, nil
}

// writeConfig replaces the file atomically, keeping its permissions; a
// symlinked config (dotfile managers) is written through to its target.
func writeConfig(path string, data []byte) error {
	mode := fs.FileMode(0o600)
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := writeAtomic(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeAtomic writes data to a temp file beside path, syncs it and renames
// it over path, so that the client never reads half a config.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
