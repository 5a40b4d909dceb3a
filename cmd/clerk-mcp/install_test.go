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
