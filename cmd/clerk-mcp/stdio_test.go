package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestStdioHygiene drives the server over real pipes at debug level: every
// stdout line is JSON-RPC, a garbage line gets a parse error and later
// requests are still answered, and closing stdin ends the process.
func TestStdioHygiene(t *testing.T) {
	w := newWorld(t)
	w.login(t, time.Now().Add(-time.Minute)) // forces a logged refresh
	cmd := exec.Command(binary, "serve", "--log-level", "debug")
	cmd.Env = w.env
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	send := func(s string) { io.WriteString(stdin, s+"\n") }
	next := func() map[string]any {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stdout closed; stderr:\n%s", stderr.String())
			}
			var msg map[string]any
			if err := json.Unmarshal([]byte(l), &msg); err != nil || msg["jsonrpc"] != "2.0" {
				t.Fatalf("stdout line is not JSON-RPC: %q", l)
			}
			return msg
		case <-time.After(10 * time.Second):
			t.Fatalf("no answer; stderr:\n%s", stderr.String())
		}
		return nil
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	if m := next(); m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`this is not json`)
	if m := next(); m["error"] == nil || fmt.Sprint(m["error"].(map[string]any)["code"]) != "-32700" {
		t.Fatalf("garbage line: %v, want a -32700 parse error", m)
	}
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`)
	m := next()
	res, _ := m["result"].(map[string]any)
	if res == nil || res["isError"] == true {
		t.Fatalf("whoami after garbage: %v", m)
	}
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}`)
	if m := next(); m["error"] == nil {
		t.Fatalf("unknown tool: %v, want a JSON-RPC error", m)
	}
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the server did not exit within 3s of stdin closing")
	}
	logs := stderr.String()
	if !strings.Contains(logs, "refresh: done") || !strings.Contains(logs, "tool call") {
		t.Fatalf("debug logs lack refresh or tool events:\n%s", logs)
	}
}
