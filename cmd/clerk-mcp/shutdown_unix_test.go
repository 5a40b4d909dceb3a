//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// SIGTERM, what editors and service managers send, while a refresh is
// between Clerk's answer and the persisted session.
func TestSIGTERMMidRefresh(t *testing.T) {
	shutdownMidRefresh(t, func(t *testing.T, s *served) { s.cmd.Process.Signal(syscall.SIGTERM) })
}

// SIGINT (Ctrl-C in a terminal) likewise.
func TestSIGINTMidRefresh(t *testing.T) {
	shutdownMidRefresh(t, func(t *testing.T, s *served) { s.cmd.Process.Signal(os.Interrupt) })
}

// `sandbox` removes its temporary directory on SIGTERM as on Ctrl-C.
func TestSandboxCleansUpOnSIGTERM(t *testing.T) {
	tmp := t.TempDir()
	cmd := exec.Command(binary, "sandbox", "--json")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + tmp}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var sb struct{ Env map[string]string }
	if err != nil || json.Unmarshal([]byte(line), &sb) != nil {
		t.Fatalf("sandbox --json: %q %v", line, err)
	}
	dir := filepath.Dir(sb.Env["CLERK_CONFIG_DIR"])
	if filepath.Dir(dir) != tmp {
		t.Fatalf("sandbox directory %s is not under TMPDIR %s", dir, tmp)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sandbox after SIGTERM: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("sandbox did not exit on SIGTERM")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("sandbox directory left behind after SIGTERM: %s (%v)", dir, err)
	}
}
