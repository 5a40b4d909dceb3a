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
		snippet := c.Snippet(binary, []string{"serve"})
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
