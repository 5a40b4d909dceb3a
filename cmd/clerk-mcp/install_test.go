package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/pelletier/go-toml/v2"
)

func (w *world) home() string {
	for _, kv := range w.env {
		if h, ok := strings.CutPrefix(kv, "HOME="); ok {
			return h
		}
	}
	return ""
}

// `install --client cursor` makes Cursor's config run clerk-mcp: the entry
// it writes starts a working server.
func TestInstallCursorRunsClerkMCP(t *testing.T) {
	w := newWorld(t)
	w.login(t, time.Now().Add(time.Hour))
	out, errOut, code := w.run(t, nil, "install", "--client", "cursor", "--json")
	if code != 0 || !strings.Contains(out, `"action": "installed"`) {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	var cfg struct {
		MCPServers map[string]struct {
			Command string   `json:"command"`
			Args    []string `json:"args"`
		} `json:"mcpServers"`
	}
	data, err := os.ReadFile(filepath.Join(w.home(), ".cursor", "mcp.json"))
	if err != nil || json.Unmarshal(data, &cfg) != nil {
		t.Fatalf("Cursor config: %v\n%s", err, data)
	}
	entry := cfg.MCPServers["clerk"]
	if !filepath.IsAbs(entry.Command) {
		t.Fatalf("command %q is not absolute", entry.Command)
	}

	// Start the server the way Cursor would, from its config.
	cmd := exec.Command(entry.Command, entry.Args...)
	cmd.Env = w.env
	client := mcp.NewClient(&mcp.Implementation{Name: "cursor-like", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("start %s %v: %v", entry.Command, entry.Args, err)
	}
	defer cs.Close()
	if res := callTool(t, cs, "whoami", nil); res.IsError {
		t.Fatalf("whoami through the installed entry: %+v", res)
	}

	if out, _, code := w.run(t, nil, "install", "--client", "cursor"); code != 0 || !strings.Contains(out, "already installed") {
		t.Fatalf("second install: exit %d: %s", code, out)
	}
	if out, _, _ := w.run(t, nil, "doctor", "--json"); !strings.Contains(out, "Installed in Cursor") {
		t.Fatalf("doctor does not report the install:\n%s", out)
	}
	if out, _, code := w.run(t, nil, "uninstall", "--client", "cursor"); code != 0 || !strings.Contains(out, "Removed") {
		t.Fatalf("uninstall: exit %d: %s", code, out)
	}
	if data, _ := os.ReadFile(filepath.Join(w.home(), ".cursor", "mcp.json")); strings.Contains(string(data), `"clerk"`) {
		t.Fatalf("entry still there:\n%s", data)
	}
}

func TestInstallRefusesMalformedConfig(t *testing.T) {
	w := newWorld(t)
	path := filepath.Join(w.home(), ".codeium", "windsurf", "mcp_config.json")
	os.MkdirAll(filepath.Dir(path), 0o755)
	bad := "{\n  \"mcpServers\": {\n    \"x\": \n}\n"
	os.WriteFile(path, []byte(bad), 0o644)
	out, errOut, code := w.run(t, nil, "install", "--client", "windsurf")
	if code != 1 || !strings.Contains(errOut, path) || !strings.Contains(errOut, "line ") {
		t.Fatalf("install over a malformed config: exit %d\n%s%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(path); string(data) != bad {
		t.Fatal("malformed config changed")
	}
	out, _, code = w.run(t, nil, "install", "--client", "windsurf", "--json")
	if code != 1 || !strings.Contains(out, `"reason": "invalid_input"`) {
		t.Fatalf("--json: exit %d: %s", code, out)
	}
	if _, _, code := w.run(t, nil, "install"); code != 2 {
		t.Fatalf("install without --client: exit %d, want 2", code)
	}
}

// With the client's own registration command on PATH, install runs it.
func TestInstallUsesClaudeCLI(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script stand-in")
	}
	w := newWorld(t)
	bin := t.TempDir()
	record := filepath.Join(t.TempDir(), "calls")
	script := "#!/bin/sh\necho \"$@\" >> " + record + "\n"
	if err := os.WriteFile(filepath.Join(bin, "claude"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := w.run(t, []string{"PATH=" + bin + ":" + os.Getenv("PATH")}, "install", "--client", "claude-code")
	if code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	calls, _ := os.ReadFile(record)
	if want := "mcp add --scope user clerk -- " + binary + " serve\n"; string(calls) != want {
		t.Fatalf("claude called with %q, want %q", calls, want)
	}
	if !strings.Contains(out, "claude mcp") {
		t.Fatalf("output does not say the CLI was used: %s", out)
	}
}

// Reinstalling over an entry the user set up read-only keeps it
// read-only: their args, env and other keys survive, and the output shows
// the args the client will run.
func TestInstallKeepsReadOnly(t *testing.T) {
	w := newWorld(t)
	path := filepath.Join(w.home(), ".cursor", "mcp.json")
	os.MkdirAll(filepath.Dir(path), 0o755)
	original := "{\n  \"mcpServers\": {\n    \"clerk\": {\n      \"command\": \"/old/clerk-mcp\",\n      \"args\": [\"serve\", \"--read-only\", \"--log-file\", \"/tmp/clerk.log\"],\n      \"env\": {\"CLERK_PROFILE\": \"work\"}\n    }\n  }\n}\n"
	os.WriteFile(path, []byte(original), 0o644)
	out, errOut, code := w.run(t, nil, "install", "--client", "cursor")
	if code != 0 || !strings.Contains(out, "serve --read-only --log-file /tmp/clerk.log") {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	data, _ := os.ReadFile(path)
	if want := strings.Replace(original, "/old/clerk-mcp", binary, 1); string(data) != want {
		t.Fatalf("config:\n%s\nwant:\n%s", data, want)
	}
}

// A "clerk" entry that runs another program is not replaced without
// --force; with it, it is, and the old one is in the backup.
func TestInstallForeignEntryNeedsForce(t *testing.T) {
	w := newWorld(t)
	path := filepath.Join(w.home(), ".codex", "config.toml")
	os.MkdirAll(filepath.Dir(path), 0o755)
	original := "[mcp_servers.clerk]\ncommand = \"npx\"\nargs = [\"-y\", \"@clerk/mcp-server\"]\n"
	os.WriteFile(path, []byte(original), 0o644)
	for _, cmd := range []string{"install", "uninstall"} {
		out, errOut, code := w.run(t, nil, cmd, "--client", "codex", "--no-cli")
		if code != 1 || !strings.Contains(errOut, "--force") || !strings.Contains(errOut, `"npx"`) {
			t.Fatalf("%s over npx: exit %d\n%s%s", cmd, code, out, errOut)
		}
		if data, _ := os.ReadFile(path); string(data) != original {
			t.Fatalf("%s changed the file:\n%s", cmd, data)
		}
	}
	out, errOut, code := w.run(t, nil, "install", "--client", "codex", "--no-cli", "--force")
	if code != 0 {
		t.Fatalf("install --force: exit %d\n%s%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), binary) || strings.Contains(string(data), "npx") {
		t.Fatalf("not replaced:\n%s", data)
	}
	if data, _ := os.ReadFile(path + ".bak"); string(data) != original {
		t.Fatal("the replaced entry is not in the backup")
	}
}

// A relative --command is written as an absolute path (the editor starts
// the server elsewhere); one that names no file is refused.
func TestInstallRelativeCommand(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	os.WriteFile(filepath.Join(dir, "bin", "clerk-mcp"), []byte("#!/bin/sh\n"), 0o755)
	run := func(args ...string) (string, int) {
		cmd := exec.Command(binary, args...)
		cmd.Env, cmd.Dir = w.env, dir
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		return string(out), 0
	}
	if out, code := run("install", "--client", "cursor", "--command", "bin/clerk-mcp"); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, out)
	}
	data, _ := os.ReadFile(filepath.Join(w.home(), ".cursor", "mcp.json"))
	if !strings.Contains(string(data), `"`+filepath.Join(dir, "bin", "clerk-mcp")+`"`) {
		t.Fatalf("command not made absolute:\n%s", data)
	}
	if out, code := run("install", "--client", "windsurf", "--command", "clerk-mcp"); code != 1 || !strings.Contains(out, "relative") {
		t.Fatalf("install with a bare name: exit %d\n%s", code, out)
	}
	if out, code := run("install", "--client", "windsurf", "--print", "--command", "nope/clerk-mcp"); code != 1 {
		t.Fatalf("--print with a relative path: exit %d\n%s", code, out)
	}
}

// --print gives valid TOML for any path: a control character is escaped
// as TOML escapes it, and a path that is not UTF-8 is refused.
func TestInstallPrintIsValidTOML(t *testing.T) {
	w := newWorld(t)
	odd := "/opt/a\x1bb\a\v\x7f/clerk-mcp"
	out, errOut, code := w.run(t, nil, "install", "--client", "codex", "--print", "--command", odd)
	if code != 0 {
		t.Fatalf("--print: exit %d\n%s%s", code, out, errOut)
	}
	var cfg struct {
		MCPServers map[string]struct{ Command string } `toml:"mcp_servers"`
	}
	if err := toml.Unmarshal([]byte(out), &cfg); err != nil || cfg.MCPServers["clerk"].Command != odd {
		t.Fatalf("--print is not valid TOML for %q: %v\n%s", odd, err, out)
	}
	if out, _, code := w.run(t, nil, "install", "--client", "codex", "--print", "--command", "/opt/\xff/clerk-mcp"); code != 1 {
		t.Fatalf("--print with a non-UTF-8 path: exit %d\n%s", code, out)
	}
}

// A config the user made read-only is refused, not overwritten (the tests
// often run as root, who could write it).
func TestInstallRefusesReadOnlyConfig(t *testing.T) {
	w := newWorld(t)
	path := filepath.Join(w.home(), ".gemini", "settings.json")
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte("{\"theme\": \"dark\"}\n"), 0o444)
	out, errOut, code := w.run(t, nil, "install", "--client", "gemini", "--no-cli")
	if code != 1 || !strings.Contains(errOut, "read-only") {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(path); string(data) != "{\"theme\": \"dark\"}\n" {
		t.Fatalf("file changed:\n%s", data)
	}
}

// Install then uninstall of a CRLF file with a BOM gives back its bytes.
func TestInstallUninstallKeepCRLFAndBOM(t *testing.T) {
	w := newWorld(t)
	path := filepath.Join(w.home(), ".codeium", "windsurf", "mcp_config.json")
	os.MkdirAll(filepath.Dir(path), 0o755)
	original := "\xef\xbb\xbf{\r\n  \"mcpServers\": {\r\n    \"github\": {\"command\": \"gh\"}\r\n  }\r\n}\r\n"
	os.WriteFile(path, []byte(original), 0o644)
	if out, errOut, code := w.run(t, nil, "install", "--client", "windsurf"); code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	data, _ := os.ReadFile(path)
	if strings.Count(string(data), "\n") != strings.Count(string(data), "\r\n") {
		t.Fatalf("LF lines in a CRLF file:\n%q", data)
	}
	if out, errOut, code := w.run(t, nil, "uninstall", "--client", "windsurf"); code != 0 {
		t.Fatalf("uninstall: exit %d\n%s%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(path); string(data) != original {
		t.Fatalf("round trip:\n%q\n->\n%q", original, data)
	}
}
