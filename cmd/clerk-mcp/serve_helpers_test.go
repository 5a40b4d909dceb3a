package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/internal/syncbuf"
)

// patience bounds every wait in these tests. It is not a synchronization:
// each wait ends on an event (an answer, a log line, an exit), and
// patience only turns a hang into a failure.
const patience = 60 * time.Second

// served is a `clerk-mcp serve` process driven over real pipes.
type served struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	answers chan map[string]any // stdout, one JSON-RPC message each
	stderr  *syncbuf.Buffer
	logged  chan struct{} // receives after each stderr line
	exited  chan struct{} // closed when the process has exited
	code    int           // exit code, once exited is closed
}

// serve starts `clerk-mcp serve` in w with stdin from in (a pipe when nil).
func (w *world) serve(t *testing.T, in io.Reader, args ...string) *served {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	cmd.Env = w.env
	s := &served{cmd: cmd, answers: make(chan map[string]any, 1024), stderr: &syncbuf.Buffer{},
		logged: make(chan struct{}, 1), exited: make(chan struct{})}
	if in != nil {
		cmd.Stdin = in
	} else {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		s.stdin = stdin
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			var msg map[string]any
			if err := json.Unmarshal(sc.Bytes(), &msg); err != nil || msg["jsonrpc"] != "2.0" {
				msg = map[string]any{"not-json-rpc": sc.Text()}
			}
			s.answers <- msg
		}
		close(s.answers)
	}()
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(s.stderr, sc.Text())
			select {
			case s.logged <- struct{}{}:
			default:
			}
		}
	}()
	go func() {
		// Wait closes the pipes, so it must follow the reads.
		pipes.Wait()
		err := cmd.Wait()
		s.code = cmd.ProcessState.ExitCode()
		if err != nil && s.code == 0 {
			s.code = -1
		}
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			cmd.Process.Kill()
			<-s.exited
		}
	})
	return s
}

func (s *served) send(t *testing.T, msg string) {
	t.Helper()
	if _, err := io.WriteString(s.stdin, msg+"\n"); err != nil {
		t.Fatalf("write to stdin: %v", err)
	}
}

// initialize performs the MCP handshake with request id 0.
func (s *served) initialize(t *testing.T) {
	t.Helper()
	s.send(t, initializeLine)
	if m := s.next(t); m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	s.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

const initializeLine = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// callLine is a tools/call request.
func callLine(id int, tool string, args string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, id, tool, args)
}

// next returns the next message on stdout.
func (s *served) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m, ok := <-s.answers:
		if !ok {
			t.Fatalf("stdout closed; stderr:\n%s", s.stderr)
		}
		if m["not-json-rpc"] != nil {
			t.Fatalf("stdout line is not JSON-RPC: %q", m["not-json-rpc"])
		}
		return m
	case <-time.After(patience):
		t.Fatalf("no answer; stderr:\n%s", s.stderr)
	}
	return nil
}

// awaitLog waits until stderr contains want, or the process exits; it
// reports whether want appeared.
func (s *served) awaitLog(t *testing.T, want string) bool {
	t.Helper()
	timeout := time.After(patience)
	for !strings.Contains(s.stderr.String(), want) {
		select {
		case <-s.logged:
		case <-s.exited:
			return strings.Contains(s.stderr.String(), want)
		case <-timeout:
			t.Fatalf("no %q in the log:\n%s", want, s.stderr)
		}
	}
	return true
}

// wait waits for the process to exit and returns its exit code.
func (s *served) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-s.exited:
		return s.code
	case <-time.After(patience):
		t.Fatalf("the server did not exit; stderr:\n%s", s.stderr)
	}
	return -1
}

// toolResult returns m's tools/call result, failing unless m answers id.
func toolResult(t *testing.T, m map[string]any, id int) map[string]any {
	t.Helper()
	if fmt.Sprint(m["id"]) != fmt.Sprint(id) {
		t.Fatalf("answer %v, want one for id %d", m, id)
	}
	res, _ := m["result"].(map[string]any)
	if res == nil {
		t.Fatalf("answer to %d is not a result: %v", id, m)
	}
	return res
}

// reason is the error reason of an isError tool result, or "".
func reason(res map[string]any) string {
	if res["isError"] != true {
		return ""
	}
	content, _ := res["content"].([]any)
	if len(content) == 0 {
		return "?"
	}
	text, _ := content[0].(map[string]any)["text"].(string)
	var env struct {
		Error struct {
			Reason    string
			Retryable bool
		}
	}
	json.Unmarshal([]byte(text), &env)
	return env.Error.Reason
}

// holdRefreshes makes the fake hold the first refresh after rotating the
// refresh token, until release is called. rotated is closed when the
// first refresh reaches that point. Later refreshes pass.
func holdRefreshes(t *testing.T, w *world) (rotated <-chan struct{}, release func()) {
	rot, rel := make(chan struct{}), make(chan struct{})
	var first, once sync.Once
	w.fake.OnRotate(func() {
		held := false
		first.Do(func() { held = true })
		if held {
			close(rot)
			<-rel
		}
	})
	release = func() { once.Do(func() { close(rel) }) }
	t.Cleanup(release)
	return rot, release
}
