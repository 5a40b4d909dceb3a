// Package clients adds clerk-mcp to the user configuration of MCP clients
// (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Codex, Gemini
// CLI) and takes it out again. It edits only the entry named "clerk", and in
// it only the command and the leading args: every other server, setting and
// comment, and what the user added to the entry, is kept, and so are CRLF
// line ends and a BOM. The previous file is backed up, the write is atomic,
// and a malformed, ambiguous or read-only file is reported and left alone.
// Where a client ships a registration command on PATH (`claude mcp add`,
// `code --add-mcp`, `codex mcp add`, `gemini mcp add`) that is used instead.
//
// JSON with comments is edited by hand (jsonc.go) rather than with
// github.com/tailscale/hujson. hujson reproduces a file it did not change
// byte for byte, but its Patch splices an added entry in minified with no
// indentation (only Value.Format makes it readable, and that reformats the
// whole file), a removal after an addition drops the trailing comma and
// indentation around a neighbouring comment, so uninstall does not restore
// the original, a BOM is a parse error, and duplicate keys are accepted,
// the patch editing the first. The BOM and CRLF handling (text.go) and the
// duplicate-key refusal would stay ours anyway.
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
	"unicode/utf8"

	"github.com/clerk-mcp/clerk-mcp/internal/atomicfile"
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
	// server is the name of our entry; empty means ServerName.
	server string
}

// Named returns the client with clerk-mcp's entry called name instead of
// ServerName, for a second entry that runs another profile. Only that
// entry is read and written.
func (c *Client) Named(name string) *Client {
	named := *c
	named.server = name
	return &named
}

// serverName is the name of our entry.
func (c *Client) serverName() string {
	if c.server == "" {
		return ServerName
	}
	return c.server
}

// registrar is a client's command for adding and removing servers.
type registrar struct {
	program string
	add     func(name, command string, args []string) []string
	remove  func(name string) []string // nil when there is none: the file is edited instead
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
			add: func(name, command string, args []string) []string {
				return append([]string{"mcp", "add", "--scope", "user", name, "--", command}, args...)
			},
			remove: func(name string) []string { return []string{"mcp", "remove", "--scope", "user", name} }},
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
			add: func(name, command string, args []string) []string {
				spec, _ := json.Marshal(struct {
					Name string `json:"name"`
					stdioEntry
				}{name, stdioEntry{Type: "stdio", Command: command, Args: args}})
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
			add: func(name, command string, args []string) []string {
				return append([]string{"mcp", "add", name, "--", command}, args...)
			},
			remove: func(name string) []string { return []string{"mcp", "remove", name} }},
	},
	{
		Name: "gemini", Title: "Gemini CLI",
		path:    func(e Env) string { return filepath.Join(e.Home, ".gemini", "settings.json") },
		servers: []string{"mcpServers"}, entry: plainEntry,
		cli: &registrar{program: "gemini",
			add: func(name, command string, args []string) []string {
				return append([]string{"mcp", "add", "--scope", "user", name, command}, args...)
			},
			remove: func(name string) []string { return []string{"mcp", "remove", "--scope", "user", name} }},
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
	// Updated: the entry's command or leading args were brought up to
	// date, everything else in it kept; or, with Force, another program's
	// entry was replaced.
	Updated   Action = "updated"
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
	// Args are the entry's arguments after an install, the ones the user
	// added included.
	Args []string `json:"args,omitempty"`
}

// Options are the inputs of Install and Uninstall.
type Options struct {
	Env Env
	// Command is the absolute path of the clerk-mcp binary; Args the
	// arguments the entry must start with (["serve"]). Arguments the user
	// added to an existing entry after them (--read-only, --log-file) are
	// kept, and so is everything else in the entry.
	Command string
	Args    []string
	// Force lets Install replace, and Uninstall remove, an entry named
	// "clerk" that runs another program. Without it that is refused with
	// a *ForeignEntryError.
	Force bool
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

// ForeignEntryError reports an entry named "clerk" that runs a program
// other than clerk-mcp (a wrapper, an HTTP server, someone else's tool
// that took the name). It is the user's, so it was left as it was.
type ForeignEntryError struct {
	Path    string
	Name    string // the entry's name
	Command string // what the entry runs; "" when it runs no command
	Remove  bool   // the refused change was an uninstall
}

func (e *ForeignEntryError) Error() string {
	runs := "runs no command"
	if e.Command != "" {
		runs = fmt.Sprintf("runs %q", e.Command)
	}
	verb := "replace"
	if e.Remove {
		verb = "remove"
	}
	return fmt.Sprintf("%s has an MCP server named %q that %s, not clerk-mcp; it was left as it is (rerun with --force to %s it)",
		e.Path, e.Name, runs, verb)
}

// errByHand marks an edit of a valid file that clerk-mcp will not make:
// the checked result differed from the intended one, or the entry is
// written in a form the text editor does not handle.
var errByHand = errors.New("clerk-mcp cannot make this change safely, so the file was left as it is; make it by hand")

// runsClerkMCP reports whether an entry's command is clerk-mcp: the path
// install writes, or any program of that name (an older install, another
// build, one found on PATH). Both separators count, since a config may
// have been written on another system.
func runsClerkMCP(command, want string) bool {
	if command == want {
		return true
	}
	base := command[strings.LastIndexAny(command, `/\`)+1:]
	return strings.EqualFold(base, "clerk-mcp") || strings.EqualFold(base, "clerk-mcp.exe")
}

// checkText refuses what neither format can hold faithfully: JSON would
// turn bytes that are not UTF-8 into U+FFFD, a path that does not exist.
func checkText(command string, args []string) error {
	for _, s := range append([]string{command}, args...) {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%q is not valid UTF-8, which a config file cannot hold", s)
		}
	}
	return nil
}

// Snippet is the configuration Install would write, for --print. It is
// checked to parse, so that what a user pastes is valid.
func (c *Client) Snippet(command string, args []string) (string, error) {
	if err := checkText(command, args); err != nil {
		return "", err
	}
	if c.toml {
		s, err := tomlTable(c.servers[0], c.serverName(), command, args)
		if err != nil {
			return "", err
		}
		if _, err := tomlValidate([]byte(s)); err != nil {
			return "", fmt.Errorf("the entry does not encode as TOML: %w", err)
		}
		return s, nil
	}
	var v any = orderedObject{{c.serverName(), c.entry(command, args)}}
	for i := len(c.servers) - 1; i >= 0; i-- {
		v = orderedObject{{c.servers[i], v}}
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil || !json.Valid(out) {
		return "", fmt.Errorf("the entry does not encode as JSON: %v", err)
	}
	return string(out) + "\n", nil
}

// Entry is clerk-mcp's entry as a client's file holds it.
type Entry struct {
	Command string
	Args    []string
}

// Status reads the client's config file: whether it has an entry for
// clerk-mcp, and which. A missing file is no entry.
func (c *Client) Status(env Env) (*Entry, error) {
	cfg, err := c.load(c.path(env))
	if err != nil {
		return nil, err
	}
	return cfg.entry, nil
}

func (c *Client) entryIn(path string, src []byte) (*Entry, error) {
	if c.toml {
		command, args, found, err := tomlServer(src, c.servers[0], c.serverName())
		if err != nil {
			return nil, &MalformedError{Path: path, Err: err}
		}
		if !found {
			return nil, nil
		}
		return &Entry{Command: command, Args: args}, nil
	}
	raw, found, err := lookupMember(src, c.servers, c.serverName())
	if err != nil {
		return nil, &MalformedError{Path: path, Err: err}
	}
	if !found {
		return nil, nil
	}
	// An entry that is not a stdio entry (an HTTP server, a string) reads
	// as one without a command: another program's.
	var e stdioEntry
	json.Unmarshal(raw, &e)
	return &Entry{Command: e.Command, Args: e.Args}, nil
}

// Install adds clerk-mcp to the client. Over an existing entry that runs
// clerk-mcp it changes only what install owns, the command path and the
// leading args, and keeps the rest; over one that runs another program it
// needs Force. Run twice, the second run changes nothing.
func (c *Client) Install(ctx context.Context, opts Options) (*Result, error) {
	opts.defaults()
	if !filepath.IsAbs(opts.Command) {
		// The client starts servers from a directory of its own.
		return nil, fmt.Errorf("the command %q is not an absolute path", opts.Command)
	}
	if err := checkText(opts.Command, opts.Args); err != nil {
		return nil, err
	}
	path := c.path(opts.Env)
	res := &Result{Client: c.Name, Title: c.Title, Path: path, Via: "file", Args: opts.Args}
	cfg, err := c.load(path)
	if err != nil {
		return nil, err
	}
	merge := false
	switch cur := cfg.entry; {
	case cur == nil:
		res.Action = Installed
	case !runsClerkMCP(cur.Command, opts.Command):
		if !opts.Force {
			return nil, &ForeignEntryError{Path: path, Name: c.serverName(), Command: cur.Command}
		}
		res.Action = Updated
	case hasLead(anyStrings(cur.Args), opts.Args):
		res.Args = cur.Args
		if cur.Command == opts.Command {
			res.Action = Unchanged
			return res, nil
		}
		res.Action, merge = Updated, true
	default:
		res.Args = append(slices.Clone(opts.Args), cur.Args...)
		res.Action, merge = Updated, true
	}
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	// The client's own command writes a whole entry; an update that keeps
	// the user's part of it edits the file instead.
	if program, ok := c.registrar(opts); ok && !merge {
		if res.Backup, err = backup(path, cfg.raw); err != nil {
			return nil, err
		}
		if cfg.entry != nil && c.cli.remove != nil {
			remove := c.cli.remove(c.serverName())
			if out, err := opts.Run(ctx, program, remove...); err != nil {
				return nil, cliError(program, remove, out, err)
			}
		}
		args := c.cli.add(c.serverName(), opts.Command, opts.Args)
		if out, err := opts.Run(ctx, program, args...); err != nil {
			return nil, cliError(program, args, out, err)
		}
		res.Via = c.cli.program + " " + strings.Join(args[:min(2, len(args))], " ")
		return res, nil
	}
	var updated []byte
	switch {
	case merge && c.toml:
		updated, err = tomlMergeServer(cfg.text, c.servers[0], c.serverName(), opts.Command, opts.Args)
	case merge:
		updated, err = c.jsonMerge(cfg.text, opts.Command, opts.Args)
	case c.toml:
		updated, err = tomlSetServer(cfg.text, c.servers[0], c.serverName(), opts.Command, opts.Args)
	default:
		updated, err = c.jsonSet(cfg.text, opts.Command, opts.Args)
	}
	if err != nil {
		return nil, editError(path, err)
	}
	if res.Backup, err = backup(path, cfg.raw); err != nil {
		return nil, err
	}
	return res, writeConfig(path, cfg.frame.frame(updated))
}

// Uninstall removes clerk-mcp's entry and nothing else. An entry named
// "clerk" that runs another program is removed only with Force.
func (c *Client) Uninstall(ctx context.Context, opts Options) (*Result, error) {
	opts.defaults()
	path := c.path(opts.Env)
	res := &Result{Client: c.Name, Title: c.Title, Path: path, Via: "file", Action: Removed}
	cfg, err := c.load(path)
	if err != nil {
		return nil, err
	}
	if cfg.entry == nil {
		res.Action = Absent
		return res, nil
	}
	if !opts.Force && !runsClerkMCP(cfg.entry.Command, opts.Command) {
		return nil, &ForeignEntryError{Path: path, Name: c.serverName(), Command: cfg.entry.Command, Remove: true}
	}
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	if program, ok := c.registrar(opts); ok && c.cli.remove != nil {
		if res.Backup, err = backup(path, cfg.raw); err != nil {
			return nil, err
		}
		remove := c.cli.remove(c.serverName())
		if out, err := opts.Run(ctx, program, remove...); err != nil {
			return nil, cliError(program, remove, out, err)
		}
		res.Via = c.cli.program + " " + strings.Join(remove[:2], " ")
		return res, nil
	}
	var updated []byte
	if c.toml {
		updated, _, err = tomlRemoveServer(cfg.text, c.servers[0], c.serverName())
	} else {
		updated, err = c.jsonRemove(cfg.text)
	}
	if err != nil {
		return nil, editError(path, err)
	}
	if res.Backup, err = backup(path, cfg.raw); err != nil {
		return nil, err
	}
	return res, writeConfig(path, cfg.frame.frame(updated))
}

// jsonSet sets our entry to a fresh one, checked.
func (c *Client) jsonSet(text []byte, command string, args []string) ([]byte, error) {
	entry := c.entry(command, args)
	return checkedJSON(text, c.servers[0], func() ([]byte, error) {
		return setMember(text, c.servers, c.serverName(), entry)
	}, func(want, _ map[string]any) error {
		servers, ok := objectIn(want, c.servers, true)
		if !ok {
			return errByHand
		}
		servers[c.serverName()] = jsonValue(entry)
		return nil
	})
}

// jsonMerge updates the command and leading args of our entry, checked.
func (c *Client) jsonMerge(text []byte, command string, lead []string) ([]byte, error) {
	return checkedJSON(text, c.servers[0], func() ([]byte, error) {
		return mergeMember(text, c.servers, c.serverName(), command, lead)
	}, func(want, _ map[string]any) error {
		servers, _ := objectIn(want, c.servers, false)
		entry, ok := servers[c.serverName()].(map[string]any)
		if !ok {
			return errByHand
		}
		entry["command"] = command
		if args, _ := entry["args"].([]any); !hasLead(args, lead) {
			entry["args"] = append(anyStrings(lead), args...)
		}
		return nil
	})
}

// jsonRemove deletes our entry, checked.
func (c *Client) jsonRemove(text []byte) ([]byte, error) {
	return checkedJSON(text, c.servers[0], func() ([]byte, error) {
		out, _, err := removeMember(text, c.servers, c.serverName())
		return out, err
	}, func(want, got map[string]any) error {
		servers, _ := objectIn(want, c.servers, false)
		delete(servers, c.serverName())
		// removeMember also drops the objects on the path it left empty.
		for i := len(c.servers); i > 0; i-- {
			parent, _ := objectIn(want, c.servers[:i-1], false)
			child, _ := parent[c.servers[i-1]].(map[string]any)
			if len(child) > 0 {
				break
			}
			if _, kept := objectIn(got, c.servers[:i], false); kept {
				break
			}
			delete(parent, c.servers[i-1])
		}
		return nil
	})
}

// editError is an edit's failure as the user should read it: a file that
// does not parse (or is ambiguous) is malformed; anything else is an edit
// clerk-mcp will not make to a valid file.
func editError(path string, err error) error {
	if errors.Is(err, errByHand) {
		return fmt.Errorf("%s: %w", path, err)
	}
	return &MalformedError{Path: path, Err: err}
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

// config is a client's config file as read.
type config struct {
	raw   []byte // as on disk; nil when there is no file
	text  []byte // raw without its BOM, with LF line ends
	frame framing
	entry *Entry // nil when there is none
}

// load reads the client's config file at path. A missing file is an empty
// config; a symlink to nothing is an error, since writing there would
// replace the user's link with a file.
func (c *Client) load(path string) (*config, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if target, err := os.Readlink(path); err == nil {
			return nil, fmt.Errorf("%s is a symbolic link to %s, which does not exist; create that file or remove the link, then run the command again", path, target)
		}
		return &config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	text, frame := unframe(raw)
	entry, err := c.entryIn(path, text)
	if err != nil {
		return nil, err
	}
	return &config{raw: raw, text: text, frame: frame, entry: entry}, nil
}

// checkWritable refuses a config file its owner cannot write. The mode
// bits are read rather than left to the kernel: root may write any file,
// and the atomic rename would replace a read-only one anyway, but a file
// made read-only is one the user does not want tools to change.
func checkWritable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil // missing: it is created; unreadable: the write reports it
	}
	if fi.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("%s is read-only (mode %04o), so it was left as it is; make it writable (chmod u+w) to let clerk-mcp edit it, or make the change by hand", path, fi.Mode().Perm())
	}
	return nil
}

// backup saves the previous contents beside the file as NAME.bak, 0600
// (configs can hold other servers' secrets). Nothing to back up is no
// backup.
func backup(path string, src []byte) (string, error) {
	if src == nil {
		return "", nil
	}
	bak := path + ".bak"
	if err := atomicfile.Write(bak, src, 0o600, atomicfile.SyncFile); err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	return bak, nil
}

// writeConfig replaces the file atomically, keeping its permissions, so
// that the client never reads half a config; a symlinked config (dotfile
// managers) is written through to its target.
func writeConfig(path string, data []byte) error {
	mode := fs.FileMode(0o600)
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	} else if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// The link's target went away since load: never replace the link.
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := atomicfile.Write(path, data, mode, atomicfile.SyncFile); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
