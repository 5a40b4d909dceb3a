package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/internal/syncbuf"
)

// --help, -h and help list every command, one line each, on stdout.
func TestHelpListsEveryCommand(t *testing.T) {
	w := newWorld(t)
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, errOut, code := w.run(t, nil, args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		for name := range commands {
			if n := strings.Count(out, "\n  "+name+" "); n != 1 {
				t.Errorf("%v: command %q listed on %d lines, want 1:\n%s", args, name, n, out)
			}
		}
		if !strings.Contains(out, "\n  help ") {
			t.Errorf("%v: help does not list itself", args)
		}
	}
}

// /dev/null is a character device but no terminal: editors that give it
// as stdin get no hint on stderr.
func TestServeWithDevNullGivesNoHint(t *testing.T) {
	w := newWorld(t)
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	s := w.serve(t, null)
	s.wait(t)
	if strings.Contains(s.stderr.String(), "clerk-mcp help") {
		t.Fatalf("hint printed for %s:\n%s", os.DevNull, s.stderr)
	}
}

// goRunCopy places the binary where `go run` leaves its builds, to see
// what the commands do when run that way.
func goRunCopy(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "go-build123456", "b001", "exe", "clerk-mcp")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// runBinary is w.run with another clerk-mcp binary.
func (w *world) runBinary(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	saved := binary
	binary = bin
	defer func() { binary = saved }()
	return w.run(t, nil, args...)
}

// `install --print` from a `go run` build warns, as the writing install
// refuses, that the entry would point at a binary about to vanish.
func TestInstallPrintWarnsUnderGoRun(t *testing.T) {
	w := newWorld(t)
	bin := goRunCopy(t)
	out, errOut, code := w.runBinary(t, bin, "install", "--client", "cursor", "--print")
	if code != 0 || !strings.Contains(out, bin) {
		t.Fatalf("install --print: exit %d\n%s%s", code, out, errOut)
	}
	_, refused, code := w.runBinary(t, bin, "install", "--client", "cursor")
	if code != 1 {
		t.Fatalf("install from a go run build: exit %d", code)
	}
	for _, want := range []string{"temporary `go run` build", "go install ./cmd/clerk-mcp"} {
		if !strings.Contains(errOut, want) || !strings.Contains(refused, want) {
			t.Errorf("--print warning %q and refusal %q should both say %q", errOut, refused, want)
		}
	}
}

// sandboxText runs `sandbox` from bin with PATH set to path and returns
// what it prints once ready.
func sandboxText(t *testing.T, bin, path string) string {
	t.Helper()
	cmd := exec.Command(bin, "sandbox")
	cmd.Env = []string{"PATH=" + path, "HOME=" + t.TempDir()}
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	// Ready once it has said how to run clerk-mcp and either shown the
	// editor entry or said why there is none.
	ready := func(s string) bool {
		return strings.Contains(s, "whoami\n") && (strings.Contains(s, "}\n") || strings.Contains(s, "from that binary"))
	}
	deadline := time.Now().Add(30 * time.Second)
	for !ready(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("sandbox printed:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return out.String()
}

// sandbox names the command to run in another shell as the user can type
// it, and from a `go run` build offers no editor entry into the build
// cache: it says how to build one instead.
func TestSandboxSaysHowToRunClerkMCP(t *testing.T) {
	noPath := t.TempDir()
	out := sandboxText(t, goRunCopy(t), noPath)
	if strings.Contains(out, "mcpServers") || strings.Contains(out, "go-build") ||
		strings.Contains(out, "\n  clerk-mcp whoami") || !strings.Contains(out, "go install ./cmd/clerk-mcp") {
		t.Errorf("sandbox from go run:\n%s", out)
	}
	out = sandboxText(t, binary, noPath)
	if !strings.Contains(out, "\n  "+binary+" whoami") || !strings.Contains(out, `"command": "`+binary+`"`) {
		t.Errorf("sandbox from a binary not on PATH:\n%s", out)
	}
	out = sandboxText(t, binary, filepath.Dir(binary))
	if !strings.Contains(out, "\n  clerk-mcp whoami") {
		t.Errorf("sandbox from the binary on PATH:\n%s", out)
	}
}
