package clients

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const binary = "/opt/clerk-mcp/bin/clerk-mcp"

func testEnv(t *testing.T) Env {
	home := t.TempDir()
	return Env{GOOS: "linux", Home: home, Getenv: func(string) string { return "" }}
}

func noCLI() Options {
	return Options{Command: binary, Args: []string{"serve"},
		LookPath: func(string) (string, error) { return "", errors.New("not on PATH") }}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// existing is a config with another server and other settings, with
// comments where the client's format allows them.
func existing(c *Client) string {
	switch {
	case c.toml:
		return "# my codex settings\nmodel = \"o3\"\n\n[mcp_servers.github]\ncommand = \"gh-mcp\" # keep me\nargs = []\n\n[profiles.fast]\nmodel = \"mini\"\n"
	case c.Name == "vscode":
		return "{\n\t// my servers\n\t\"servers\": {\n\t\t\"github\": {\"type\": \"http\", \"url\": \"https://api.githubcopilot.com/mcp/\"}, // trailing comma next\n\t},\n\t\"inputs\": []\n}\n"
	case c.Name == "gemini" || c.Name == "claude-code":
		return "{\n  /* theme */ \"theme\": \"dark\",\n  \"mcpServers\": {\n    \"github\": { \"command\": \"gh-mcp\", \"args\": [] } // mine\n  }\n}\n"
	default:
		return "{\n  \"globalShortcut\": \"Ctrl+Space\",\n  \"mcpServers\": {\n    \"github\": {\n      \"command\": \"gh-mcp\",\n      \"args\": []\n    }\n  }\n}\n"
	}
}

func TestInstallFreshIdempotentAndUninstall(t *testing.T) {
	for _, c := range All() {
		t.Run(c.Name, func(t *testing.T) {
			env := testEnv(t)
			opts := noCLI()
			opts.Env = env
			res, err := c.Install(context.Background(), opts)
			if err != nil || res.Action != Installed || res.Backup != "" {
				t.Fatalf("first install: %+v, %v", res, err)
			}
			path := c.Path(env)
			if !strings.HasPrefix(path, env.Home) {
				t.Fatalf("config path %s is outside HOME", path)
			}
			got, err := c.Status(env)
			if err != nil || got == nil || got.Command != binary || strings.Join(got.Args, " ") != "serve" {
				t.Fatalf("status after install: %+v, %v\n%s", got, err, read(t, path))
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
				t.Errorf("new config has mode %v, want 0600", fi.Mode().Perm())
			}
			before := read(t, path)
			res, err = c.Install(context.Background(), opts)
			if err != nil || res.Action != Unchanged || read(t, path) != before {
				t.Fatalf("second install: %+v, %v", res, err)
			}
			if _, err := os.Stat(path + ".bak"); err == nil {
				t.Fatal("an unchanged install left a backup")
			}
			res, err = c.Uninstall(context.Background(), opts)
			if err != nil || res.Action != Removed {
				t.Fatalf("uninstall: %+v, %v", res, err)
			}
			if got, err := c.Status(env); err != nil || got != nil {
				t.Fatalf("status after uninstall: %+v, %v\n%s", got, err, read(t, path))
			}
			if res, err := c.Uninstall(context.Background(), opts); err != nil || res.Action != Absent {
				t.Fatalf("second uninstall: %+v, %v", res, err)
			}
		})
	}
}

// Other servers, settings and comments survive; uninstall gives back the
// very bytes that were there before install.
func TestInstallKeepsEverythingElse(t *testing.T) {
	for _, c := range All() {
		t.Run(c.Name, func(t *testing.T) {
			env := testEnv(t)
			opts := noCLI()
			opts.Env = env
			path := c.Path(env)
			original := existing(c)
			write(t, path, original)
			res, err := c.Install(context.Background(), opts)
			if err != nil || res.Action != Installed {
				t.Fatalf("install: %+v, %v", res, err)
			}
			after := read(t, path)
			for _, keep := range []string{"github"} {
				if !strings.Contains(after, keep) {
					t.Fatalf("lost %q:\n%s", keep, after)
				}
			}
			for _, marker := range []string{"//", "#", "/*"} {
				for _, line := range strings.Split(original, "\n") {
					if i := strings.Index(line, marker); i >= 0 && !strings.Contains(after, line[i:]) {
						t.Fatalf("comment %q changed:\n%s", line[i:], after)
					}
				}
			}
			if read(t, res.Backup) != original {
				t.Fatal("backup is not the previous file")
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
				t.Errorf("mode changed to %v", fi.Mode().Perm())
			}
			if got, _ := c.Status(env); got == nil || got.Command != binary {
				t.Fatalf("entry not found after install:\n%s", after)
			}
			if !c.toml {
				if _, err := blank([]byte(after)); err != nil {
					t.Fatalf("result is not valid JSON(C): %v\n%s", err, after)
				}
			}
			if _, err := c.Uninstall(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			if got := read(t, path); got != original {
				t.Fatalf("uninstall did not restore the file:\n--- before\n%s\n--- after\n%s", original, got)
			}
		})
	}
}

func TestInstallReplacesAnotherCommand(t *testing.T) {
	for _, c := range All() {
		t.Run(c.Name, func(t *testing.T) {
			env := testEnv(t)
			opts := noCLI()
			opts.Env = env
			opts.Command = "/old/clerk-mcp"
			if _, err := c.Install(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			old := read(t, c.Path(env))
			opts.Command = binary
			res, err := c.Install(context.Background(), opts)
			if err != nil || res.Action != Updated {
				t.Fatalf("reinstall with another command: %+v, %v", res, err)
			}
			if got, _ := c.Status(env); got == nil || got.Command != binary {
				t.Fatalf("entry not replaced:\n%s", read(t, c.Path(env)))
			}
			key := `"clerk":`
			if c.toml {
				key = ".clerk]"
			}
			if n := strings.Count(read(t, c.Path(env)), key); n != 1 || strings.Count(old, key) != 1 {
				t.Fatalf("entry duplicated:\n%s", read(t, c.Path(env)))
			}
			if read(t, res.Backup) != old {
				t.Fatal("backup is not the previous file")
			}
		})
	}
}

func TestMalformedConfigIsLeftAlone(t *testing.T) {
	for _, c := range All() {
		t.Run(c.Name, func(t *testing.T) {
			env := testEnv(t)
			opts := noCLI()
			opts.Env = env
			bad := "{\n  \"mcpServers\": {\n    \"github\": {\"command\": \"gh\",,}\n"
			if c.toml {
				bad = "[mcp_servers.github\ncommand = \"gh\"\n"
			}
			write(t, c.Path(env), bad)
			for _, op := range []func(context.Context, Options) (*Result, error){c.Install, c.Uninstall} {
				_, err := op(context.Background(), opts)
				var me *MalformedError
				if !errors.As(err, &me) || !strings.Contains(err.Error(), "line ") || !strings.Contains(err.Error(), c.Path(env)) {
					t.Fatalf("error %v, want a MalformedError naming the file and line", err)
				}
			}
			if read(t, c.Path(env)) != bad {
				t.Fatal("malformed file was changed")
			}
			if _, err := os.Stat(c.Path(env) + ".bak"); err == nil {
				t.Fatal("backup written for a refused edit")
			}
		})
	}
}

// Where the client has a registration command on PATH, it is used.
func TestRegistrationCommands(t *testing.T) {
	want := map[string]string{
		"claude-code": "claude mcp add --scope user clerk -- " + binary + " serve",
		"vscode":      `code --add-mcp {"name":"clerk","type":"stdio","command":"` + binary + `","args":["serve"]}`,
		"codex":       "codex mcp add clerk -- " + binary + " serve",
		"gemini":      "gemini mcp add --scope user clerk " + binary + " serve",
	}
	for _, c := range All() {
		t.Run(c.Name, func(t *testing.T) {
			env := testEnv(t)
			var ran []string
			opts := Options{Env: env, Command: binary, Args: []string{"serve"},
				LookPath: func(p string) (string, error) { return "/usr/bin/" + p, nil },
				Run: func(_ context.Context, program string, args ...string) ([]byte, error) {
					ran = append(ran, filepath.Base(program)+" "+strings.Join(args, " "))
					return nil, nil
				}}
			res, err := c.Install(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			w, hasCLI := want[c.Name]
			if !hasCLI {
				if len(ran) != 0 || res.Via != "file" {
					t.Fatalf("%s has no registration command, but ran %v", c.Name, ran)
				}
				return
			}
			if len(ran) != 1 || ran[0] != w {
				t.Fatalf("ran %v, want %q", ran, w)
			}
			if res.Via == "file" {
				t.Fatal("result says file")
			}
		})
	}
}

func TestRegistrationFailureIsReported(t *testing.T) {
	c, _ := Lookup("claude-code")
	opts := Options{Env: testEnv(t), Command: binary, Args: []string{"serve"},
		LookPath: func(p string) (string, error) { return "/usr/bin/" + p, nil },
		Run: func(context.Context, string, ...string) ([]byte, error) {
			return []byte("MCP server clerk already exists"), errors.New("exit status 1")
		}}
	_, err := c.Install(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), "--no-cli") {
		t.Fatalf("error = %v", err)
	}
}

func TestConfigPathsPerOS(t *testing.T) {
	cases := []struct{ client, goos, want string }{
		{"claude-desktop", "darwin", "/h/Library/Application Support/Claude/claude_desktop_config.json"},
		{"claude-desktop", "windows", "/appdata/Claude/claude_desktop_config.json"},
		{"claude-desktop", "linux", "/h/.config/Claude/claude_desktop_config.json"},
		{"vscode", "darwin", "/h/Library/Application Support/Code/User/mcp.json"},
		{"vscode", "windows", "/appdata/Code/User/mcp.json"},
		{"vscode", "linux", "/h/.config/Code/User/mcp.json"},
		{"cursor", "windows", "/h/.cursor/mcp.json"},
		{"windsurf", "linux", "/h/.codeium/windsurf/mcp_config.json"},
		{"codex", "linux", "/h/.codex/config.toml"},
		{"gemini", "darwin", "/h/.gemini/settings.json"},
		{"claude-code", "linux", "/h/.claude.json"},
	}
	for _, tc := range cases {
		c, err := Lookup(tc.client)
		if err != nil {
			t.Fatal(err)
		}
		env := Env{GOOS: tc.goos, Home: "/h", Getenv: func(k string) string {
			if k == "APPDATA" {
				return "/appdata"
			}
			return ""
		}}
		if got := filepath.ToSlash(c.Path(env)); got != tc.want {
			t.Errorf("%s on %s: %s, want %s", tc.client, tc.goos, got, tc.want)
		}
	}
	if _, err := Lookup("emacs"); err == nil || !strings.Contains(err.Error(), "cursor") {
		t.Errorf("unknown client: %v", err)
	}
}

func TestSnippetIsWhatInstallWrites(t *testing.T) {
	for _, c := range All() {
		env := testEnv(t)
		opts := noCLI()
		opts.Env = env
		c.Install(context.Background(), opts)
		snippet, err := c.Snippet(binary, []string{"serve"})
		if err != nil {
			t.Fatal(err)
		}
		if c.toml {
			if read(t, c.Path(env)) != snippet {
				t.Errorf("%s: snippet %q, file %q", c.Name, snippet, read(t, c.Path(env)))
			}
			continue
		}
		var a, b any
		json.Unmarshal([]byte(snippet), &a)
		json.Unmarshal([]byte(read(t, c.Path(env))), &b)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s: snippet %s, file %s", c.Name, ja, jb)
		}
	}
}

// A config kept in a dotfiles repository and symlinked stays a symlink.
func TestSymlinkedConfigIsWrittenThrough(t *testing.T) {
	env := testEnv(t)
	c, _ := Lookup("cursor")
	target := filepath.Join(t.TempDir(), "dotfiles", "mcp.json")
	write(t, target, existing(c))
	os.MkdirAll(filepath.Dir(c.Path(env)), 0o755)
	if err := os.Symlink(target, c.Path(env)); err != nil {
		t.Fatal(err)
	}
	opts := noCLI()
	opts.Env = env
	if _, err := c.Install(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(c.Path(env)); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced by a file")
	}
	if !strings.Contains(read(t, target), binary) {
		t.Fatal("the link's target was not updated")
	}
}

// withUserArgs is a config whose clerk entry has what a user adds by hand:
// more args, env, another key and a comment where the format allows them.
func withUserArgs(c *Client, command string) string {
	switch {
	case c.toml:
		return "model = \"o3\"\n\n[mcp_servers.clerk]\ncommand = \"" + command + "\" # mine\nargs = [\"--read-only\", \"--log-file\", \"/tmp/clerk.log\"]\nstartup_timeout_sec = 20\n\n[mcp_servers.clerk.env]\nCLERK_PROFILE = \"work\"\n"
	case c.Name == "vscode" || c.Name == "gemini":
		return "{\n  \"" + c.servers[0] + "\": {\n    \"clerk\": {\n      // read-only on purpose\n      \"command\": \"" + command + "\",\n      \"args\": [\"--read-only\", \"--log-file\", \"/tmp/clerk.log\"],\n      \"env\": {\"CLERK_PROFILE\": \"work\"},\n      \"timeout\": 30,\n    },\n  },\n}\n"
	default:
		return "{\n  \"mcpServers\": {\n    \"clerk\": {\n      \"command\": \"" + command + "\",\n      \"args\": [\"--read-only\", \"--log-file\", \"/tmp/clerk.log\"],\n      \"env\": {\"CLERK_PROFILE\": \"work\"},\n      \"timeout\": 30\n    }\n  }\n}\n"
	}
}

// Reinstalling over the user's own entry changes the command and puts
// `serve` first, and keeps every argument, env and key the user added, in
// their order; issue 9 item 4: it used to replace the entry whole, turning
// a read-only setup into a destructive one.
func TestInstallKeepsTheUsersArgsAndEnv(t *testing.T) {
	for _, c := range All() {
		t.Run(c.Name, func(t *testing.T) {
			env := testEnv(t)
			opts := noCLI()
			opts.Env = env
			path := c.Path(env)
			original := withUserArgs(c, "/old/bin/clerk-mcp")
			write(t, path, original)
			res, err := c.Install(context.Background(), opts)
			if err != nil || res.Action != Updated {
				t.Fatalf("install: %+v, %v", res, err)
			}
			wantArgs := "serve --read-only --log-file /tmp/clerk.log"
			if strings.Join(res.Args, " ") != wantArgs {
				t.Errorf("result args %q, want %q", res.Args, wantArgs)
			}
			got, err := c.Status(env)
			if err != nil || got == nil || got.Command != binary || strings.Join(got.Args, " ") != wantArgs {
				t.Fatalf("entry after install: %+v, %v\n%s", got, err, read(t, path))
			}
			// Nothing but the command and the new "serve" changed.
			after := read(t, path)
			want := strings.Replace(original, "/old/bin/clerk-mcp", binary, 1)
			want = strings.Replace(want, `["--read-only"`, `["serve", "--read-only"`, 1)
			if after != want {
				t.Fatalf("install changed more than the command and args:\n--- want\n%s\n--- got\n%s", want, after)
			}
			if res, err := c.Install(context.Background(), opts); err != nil || res.Action != Unchanged || read(t, path) != after {
				t.Fatalf("second install: %+v, %v", res, err)
			}
		})
	}
}

// An update of the user's entry edits the file even when the client's
// registration command is on PATH: `mcp remove` + `mcp add` would drop
// the user's args and env.
func TestInstallUpdateDoesNotReRegister(t *testing.T) {
	c, _ := Lookup("claude-code")
	env := testEnv(t)
	write(t, c.Path(env), withUserArgs(c, "/old/bin/clerk-mcp"))
	var ran []string
	opts := Options{Env: env, Command: binary, Args: []string{"serve"},
		LookPath: func(p string) (string, error) { return "/usr/bin/" + p, nil },
		Run: func(_ context.Context, program string, args ...string) ([]byte, error) {
			ran = append(ran, program+" "+strings.Join(args, " "))
			return nil, nil
		}}
	res, err := c.Install(context.Background(), opts)
	if err != nil || res.Action != Updated || res.Via != "file" || len(ran) != 0 {
		t.Fatalf("install: %+v, %v, ran %v", res, err, ran)
	}
	if !strings.Contains(read(t, c.Path(env)), `"--read-only"`) {
		t.Fatalf("args lost:\n%s", read(t, c.Path(env)))
	}
}

// An entry named clerk that runs another program is the user's: install
// and uninstall leave it alone unless forced, and say so.
func TestForeignEntryNeedsForce(t *testing.T) {
	for _, c := range All() {
		for _, foreign := range []string{"npx", ""} {
			t.Run(c.Name+"/"+foreign, func(t *testing.T) {
				env := testEnv(t)
				opts := noCLI()
				opts.Env = env
				path := c.Path(env)
				var original string
				switch {
				case c.toml && foreign == "":
					original = "[mcp_servers.clerk]\nurl = \"https://mcp.clerk.com/mcp\"\n"
				case c.toml:
					original = "[mcp_servers.clerk]\ncommand = \"npx\"\nargs = [\"-y\", \"@clerk/mcp-server\"]\n"
				case foreign == "":
					original = "{\"" + c.servers[0] + "\": {\"clerk\": {\"type\": \"http\", \"url\": \"https://mcp.clerk.com/mcp\"}}}\n"
				default:
					original = "{\"" + c.servers[0] + "\": {\"clerk\": {\"command\": \"npx\", \"args\": [\"-y\", \"@clerk/mcp-server\"]}}}\n"
				}
				write(t, path, original)
				for name, op := range map[string]func(context.Context, Options) (*Result, error){"install": c.Install, "uninstall": c.Uninstall} {
					_, err := op(context.Background(), opts)
					var fe *ForeignEntryError
					if !errors.As(err, &fe) || !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), path) {
						t.Fatalf("%s over another program's entry: %v, want a ForeignEntryError naming the file and --force", name, err)
					}
					if read(t, path) != original {
						t.Fatalf("%s changed the file", name)
					}
				}
				if _, err := os.Stat(path + ".bak"); err == nil {
					t.Fatal("backup written for a refused edit")
				}
				opts.Force = true
				res, err := c.Install(context.Background(), opts)
				if err != nil || res.Action != Updated {
					t.Fatalf("forced install: %+v, %v", res, err)
				}
				if got, _ := c.Status(env); got == nil || got.Command != binary || strings.Join(got.Args, " ") != "serve" {
					t.Fatalf("forced install did not write our entry:\n%s", read(t, path))
				}
				if read(t, res.Backup) != original {
					t.Fatal("the replaced entry is not in the backup")
				}
			})
		}
	}
}

// Any program called clerk-mcp is ours, whatever its directory or system.
func TestRunsClerkMCP(t *testing.T) {
	for cmd, want := range map[string]bool{
		binary: true, "clerk-mcp": true, "/usr/local/bin/clerk-mcp": true,
		`C:\Tools\Clerk-MCP.EXE`: true, "/opt/x": false, "npx": false, "": false,
		"/usr/bin/clerk-mcp-wrapper": false,
	} {
		if got := runsClerkMCP(cmd, binary); got != want {
			t.Errorf("runsClerkMCP(%q) = %v", cmd, got)
		}
	}
	if !runsClerkMCP("/somewhere/else", "/somewhere/else") {
		t.Error("the path install writes is not recognized")
	}
}

// A config saved by a Windows editor keeps its CRLF line ends and its BOM
// through install, and uninstall gives back its exact bytes.
func TestCRLFAndBOMSurvive(t *testing.T) {
	for _, c := range All() {
		t.Run(c.Name, func(t *testing.T) {
			env := testEnv(t)
			opts := noCLI()
			opts.Env = env
			path := c.Path(env)
			original := "\xef\xbb\xbf" + strings.ReplaceAll(existing(c), "\n", "\r\n")
			write(t, path, original)
			if _, err := c.Install(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			after := read(t, path)
			if !strings.HasPrefix(after, "\xef\xbb\xbf") {
				t.Fatal("BOM dropped")
			}
			if n, crlf := strings.Count(after, "\n"), strings.Count(after, "\r\n"); n != crlf {
				t.Fatalf("%d of %d lines end in LF only:\n%q", n-crlf, n, after)
			}
			if got, err := c.Status(env); err != nil || got == nil || got.Command != binary {
				t.Fatalf("status: %+v, %v", got, err)
			}
			opts.Command = "/new/clerk-mcp"
			if _, err := c.Install(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Uninstall(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			if got := read(t, path); got != original {
				t.Fatalf("round trip changed the file:\n%q\n->\n%q", original, got)
			}
		})
	}
}

// `{}` comes back as `{}`, not as `{"mcpServers": {}}` or `{\n}`.
func TestEmptyObjectRoundTrips(t *testing.T) {
	for _, c := range All() {
		if c.toml {
			continue
		}
		env := testEnv(t)
		opts := noCLI()
		opts.Env = env
		write(t, c.Path(env), "{}")
		if _, err := c.Install(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Uninstall(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c.Path(env)); got != "{}" {
			t.Errorf("%s: {} came back as %q", c.Name, got)
		}
	}
}

// A key given twice is ambiguous (parsers disagree on which one wins):
// refused, naming the file and the key.
func TestDuplicateKeysAreRefused(t *testing.T) {
	c, _ := Lookup("cursor")
	for key, src := range map[string]string{
		"mcpServers": "{\n  \"mcpServers\": {\"a\": {\"command\": \"a\"}},\n  \"mcpServers\": {\"b\": {\"command\": \"b\"}}\n}\n",
		"clerk":      "{\"mcpServers\": {\"clerk\": {\"command\": \"/x/clerk-mcp\"}, \"clerk\": {\"command\": \"npx\"}}}",
		"command":    "{\"mcpServers\": {\"clerk\": {\"command\": \"/x/clerk-mcp\", \"command\": \"npx\"}}}",
	} {
		t.Run(key, func(t *testing.T) {
			env := testEnv(t)
			opts := noCLI()
			opts.Env = env
			write(t, c.Path(env), src)
			for _, op := range []func(context.Context, Options) (*Result, error){c.Install, c.Uninstall} {
				_, err := op(context.Background(), opts)
				var me *MalformedError
				if !errors.As(err, &me) || !strings.Contains(err.Error(), c.Path(env)) || !strings.Contains(err.Error(), `"`+key+`"`) || !strings.Contains(err.Error(), "ambiguous") {
					t.Fatalf("error %v, want a MalformedError naming the file and %q as ambiguous", err, key)
				}
			}
			if read(t, c.Path(env)) != src {
				t.Fatal("file changed")
			}
		})
	}
}

// A config the user made read-only is not replaced, even by root (who may
// write anything, and whose rename would replace it regardless).
func TestReadOnlyConfigIsRefused(t *testing.T) {
	for _, c := range All() {
		t.Run(c.Name, func(t *testing.T) {
			env := testEnv(t)
			opts := noCLI()
			opts.Env = env
			path := c.Path(env)
			original := existing(c)
			write(t, path, original)
			if err := os.Chmod(path, 0o444); err != nil {
				t.Fatal(err)
			}
			_, err := c.Install(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), "read-only") || !strings.Contains(err.Error(), path) {
				t.Fatalf("install into a 0444 file: %v", err)
			}
			fi, _ := os.Stat(path)
			if read(t, path) != original || fi.Mode().Perm() != 0o444 {
				t.Fatalf("file changed (mode %v)", fi.Mode().Perm())
			}
			// Nothing to write is no error.
			os.Chmod(path, 0o644)
			c.Install(context.Background(), opts)
			os.Chmod(path, 0o444)
			if res, err := c.Install(context.Background(), opts); err != nil || res.Action != Unchanged {
				t.Fatalf("unchanged install into a read-only file: %+v, %v", res, err)
			}
			if _, err := c.Uninstall(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "read-only") {
				t.Fatalf("uninstall from a read-only file: %v", err)
			}
		})
	}
}

// A symlink whose target is gone is an error: writing there would replace
// the user's link (into a dotfiles repository, say) with a plain file.
func TestDanglingSymlinkIsAnError(t *testing.T) {
	env := testEnv(t)
	c, _ := Lookup("cursor")
	target := filepath.Join(t.TempDir(), "dotfiles", "mcp.json")
	os.MkdirAll(filepath.Dir(c.Path(env)), 0o755)
	if err := os.Symlink(target, c.Path(env)); err != nil {
		t.Fatal(err)
	}
	opts := noCLI()
	opts.Env = env
	_, err := c.Install(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), target) {
		t.Fatalf("install through a dangling symlink: %v", err)
	}
	if fi, err := os.Lstat(c.Path(env)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced")
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("the missing target was created")
	}
	if _, err := c.Status(env); err == nil {
		t.Fatal("status does not report the dangling link")
	}
}

// Control characters in a path are escaped as TOML escapes them (Go's
// \x1b, \a and \v are not TOML), so the file and --print still parse.
func TestTOMLControlCharactersAreEscaped(t *testing.T) {
	c, _ := Lookup("codex")
	env := testEnv(t)
	opts := noCLI()
	opts.Env = env
	opts.Command = "/opt/a\x1bb\a\v\x7f\"q\\/\tclerk-mcp"
	snippet, err := c.Snippet(opts.Command, opts.Args)
	if err != nil {
		t.Fatal(err)
	}
	if cmd, _, found, err := tomlServer([]byte(snippet), "mcp_servers", ServerName); err != nil || !found || cmd != opts.Command {
		t.Fatalf("snippet %q: %q, %v", snippet, cmd, err)
	}
	if _, err := c.Install(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Status(env); err != nil || got == nil || got.Command != opts.Command {
		t.Fatalf("status: %+v, %v\n%q", got, err, read(t, c.Path(env)))
	}
	opts.Command = "/opt/\xff/clerk-mcp"
	if _, err := c.Snippet(opts.Command, opts.Args); err == nil {
		t.Fatal("a path that is not UTF-8 printed as TOML")
	}
	if _, err := c.Install(context.Background(), opts); err == nil {
		t.Fatal("a path that is not UTF-8 written as TOML")
	}
}

func TestRelativeCommandIsRefused(t *testing.T) {
	c, _ := Lookup("cursor")
	opts := noCLI()
	opts.Env = testEnv(t)
	opts.Command = "bin/clerk-mcp"
	if _, err := c.Install(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Fatalf("relative command: %v", err)
	}
	if _, err := os.Stat(c.Path(opts.Env)); err == nil {
		t.Fatal("config written")
	}
}

// Codex's TOML in the forms people write: a sub-table after another
// table, comments inside the entry and before the next table, a multi-line
// args array. Only our tables go; every comment that is not inside them
// stays.
func TestTOMLEntryInOtherShapes(t *testing.T) {
	c, _ := Lookup("codex")
	env := testEnv(t)
	opts := noCLI()
	opts.Env = env
	path := c.Path(env)
	original := "[mcp_servers.clerk]\n# mine\ncommand = '/old/clerk-mcp'\nargs = [\n  \"--read-only\", # keep\n]\n\n# the github server\n[mcp_servers.github]\ncommand = \"gh\"\n\n[mcp_servers.clerk.env]\nA = \"\"\"x\n[mcp_servers.fake]\"\"\"\n"
	write(t, path, original)
	if _, err := c.Install(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(original, "'/old/clerk-mcp'", `"`+binary+`"`, 1)
	want = strings.Replace(want, "[\n  \"--read-only\"", "[\n  \"serve\",\n  \"--read-only\"", 1)
	if got := read(t, path); got != want {
		t.Fatalf("install:\n--- want\n%s\n--- got\n%s", want, got)
	}
	if _, err := c.Uninstall(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got, want := read(t, path), "# the github server\n[mcp_servers.github]\ncommand = \"gh\"\n"; got != want {
		t.Fatalf("uninstall:\n--- want\n%s\n--- got\n%s", want, got)
	}
}

// An inline-table entry is not something the text editor changes: it is
// refused with the file untouched, never duplicated or mangled.
func TestTOMLInlineEntryIsRefusedSafely(t *testing.T) {
	c, _ := Lookup("codex")
	env := testEnv(t)
	opts := noCLI()
	opts.Env = env
	path := c.Path(env)
	original := "[mcp_servers]\nclerk = { command = \"/old/clerk-mcp\", args = [\"serve\", \"--read-only\"] }\n"
	write(t, path, original)
	for _, op := range []func(context.Context, Options) (*Result, error){c.Install, c.Uninstall} {
		if _, err := op(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "by hand") {
			t.Fatalf("error %v, want a refusal", err)
		}
	}
	if read(t, path) != original {
		t.Fatal("file changed")
	}
}
