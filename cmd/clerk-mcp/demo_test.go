package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

var tokenShaped = regexp.MustCompile(`rt_[0-9a-f]{48}|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.|sk_(test|live)_[A-Za-z0-9]{8,}`)

// The README's first command on a machine with no Clerk account: login,
// every tool, and a refresh, offline.
func TestDemo(t *testing.T) {
	w := newWorld(t)
	out, errOut, code := w.run(t, nil, "demo")
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Logged in as Ada Lovelace", "api, api_endpoints, doctor, whoami",
		`"path": "/v1/users"`, "app_fake1", "[pass] session_usable", "refreshed transparently: 1 refresh",
		// A production write: refused with a summary, confirmed by the
		// user, sent, and both calls in the audit log.
		"-> confirmation_required; nothing was sent",
		"POST /v1/users on the Backend API, application app_fake1, instance production; body: ",
		"(confirmation needed: it changes a production instance)",
		`The user agrees, so the agent repeats the same call with "confirm": "cfm_`,
		"-> status 200: user ", "TIME  ", "refused: confirmation_required", "allowed: token"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if m := tokenShaped.FindString(out + errOut); m != "" {
		t.Fatalf("demo printed a secret: %s", m)
	}
	out, errOut, code = w.run(t, nil, "demo", "--json")
	var steps []struct {
		Title, Tool, Note string
		Result            json.RawMessage
	}
	if code != 0 || json.Unmarshal([]byte(out), &steps) != nil || len(steps) < 7 {
		t.Fatalf("demo --json: exit %d\n%s%s", code, out, errOut)
	}
	if refresh := steps[len(steps)-2]; refresh.Tool != "whoami" || !strings.Contains(refresh.Note, "refreshed") {
		t.Fatalf("refresh step %+v", refresh)
	}
	last := steps[len(steps)-1]
	var sent struct{ Status int }
	if last.Tool != "api" || !strings.Contains(last.Note, "confirmation_required") ||
		json.Unmarshal(last.Result, &sent) != nil || sent.Status != 200 {
		t.Fatalf("last step %+v, want the confirmed production write", last)
	}
}

// `sandbox` keeps a sandbox running; with its environment, the CLI and an
// MCP server work against it without further setup.
func TestSandbox(t *testing.T) {
	cmd := exec.Command(binary, "sandbox", "--json")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var sb struct {
		URL string
		Env map[string]string
	}
	if err != nil || json.Unmarshal([]byte(line), &sb) != nil || sb.Env["CLERK_OAUTH_BASE_URL"] != sb.URL {
		t.Fatalf("sandbox --json: %q %v", line, err)
	}
	w := &world{env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}}
	for k, v := range sb.Env {
		w.env = append(w.env, k+"="+v)
	}
	if out, errOut, code := w.run(t, nil, "whoami"); code != 0 || !strings.Contains(out, "ada@example.com") {
		t.Fatalf("whoami against the sandbox: exit %d\n%s%s", code, out, errOut)
	}
	cs := w.connect(t)
	if res := callTool(t, cs, "api", map[string]any{"path": "/applications"}); res.IsError {
		t.Fatalf("api against the sandbox: %+v", res)
	}
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sandbox exit after Ctrl-C: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sandbox did not stop on Ctrl-C")
	}
	if _, err := os.Stat(sb.Env["CLERK_CONFIG_DIR"]); err == nil {
		t.Error("the temporary sandbox config directory was left behind")
	}
}
