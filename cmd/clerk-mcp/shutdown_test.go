package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/server"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// stopServe ends a serve process in one of the ways an editor does.
type stopServe func(t *testing.T, s *served)

// shutdownMidRefresh drives the shutdown this test and its signal
// siblings check: a call prompts a refresh, Clerk rotates the refresh
// token and is held before answering, the server is told to stop, and
// only then does Clerk answer. The call must be answered with its result,
// the process must exit 0, and the rotated session must be on disk: the
// next process uses it without invalid_grant.
func shutdownMidRefresh(t *testing.T, stop stopServe) {
	w := newWorld(t)
	old := w.login(t, time.Now().Add(-time.Minute))
	rotated, release := holdRefreshes(t, w)
	s := w.serve(t, nil)
	s.initialize(t)
	s.send(t, callLine(1, "whoami", `{}`))
	select {
	case <-rotated:
	case <-time.After(patience):
		t.Fatalf("no refresh reached Clerk; stderr:\n%s", s.stderr)
	}
	stop(t, s)
	if !s.awaitLog(t, "stdio: stopping") {
		t.Errorf("the server exited without draining; stderr:\n%s", s.stderr)
	}
	release()
	if res := toolResult(t, s.next(t), 1); res["isError"] == true {
		t.Errorf("the call in flight was answered %v, want its result", res)
	}
	if code := s.wait(t); code != 0 {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, s.stderr)
	}
	sess, err := w.store(t).Load(context.Background())
	if err != nil {
		t.Fatalf("session after shutdown: %v", err)
	}
	if sess.RefreshToken == old.RefreshToken || !w.fake.RefreshTokenValid(sess.RefreshToken) {
		t.Fatal("the rotated refresh token was not persisted")
	}
	// The next process refreshes with it.
	w.store(t).Save(context.Background(), &store.Session{AccessToken: sess.AccessToken, RefreshToken: sess.RefreshToken,
		TokenType: "Bearer", Expiry: time.Now().Add(-time.Minute), Issuer: sess.Issuer, ClientID: sess.ClientID})
	if out, errOut, code := w.run(t, nil, "whoami"); code != 0 || !strings.Contains(out, "ada@example.com") {
		t.Fatalf("whoami after the shutdown: exit %d\n%s%s", code, out, errOut)
	}
	if n := w.fake.Counts().InvalidGrants; n != 0 {
		t.Fatalf("%d invalid_grant answers: a rotated refresh token was lost", n)
	}
}

// Closing stdin, the usual way an editor stops a server, while a refresh
// is between Clerk's answer and the persisted session.
func TestStdinClosedMidRefresh(t *testing.T) {
	shutdownMidRefresh(t, func(t *testing.T, s *served) { s.stdin.Close() })
}

// `clerk-mcp serve < requests.jsonl`: stdin ends at once, while the calls
// are still waiting on a slow refresh; every request gets its real answer.
func TestServeFromFileAnswersEveryCall(t *testing.T) {
	w := newWorld(t)
	w.login(t, time.Now().Add(-time.Minute))
	_, release := holdRefreshes(t, w)
	const calls = 5
	lines := []string{initializeLine, `{"jsonrpc":"2.0","method":"notifications/initialized"}`}
	for id := 1; id <= calls; id++ {
		lines = append(lines, callLine(id, "whoami", `{}`))
	}
	lines = append(lines, callLine(calls+1, "api_endpoints", `{"query":"list users"}`))
	path := filepath.Join(t.TempDir(), "requests.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := w.serve(t, f)
	// Clerk answers only once the server has seen the end of its input.
	s.awaitLog(t, "stdio: stopping")
	release()
	answered := map[string]bool{}
	for range calls + 2 {
		m := s.next(t)
		id := fmt.Sprint(m["id"])
		if id != "0" {
			if res := toolResult(t, m, atoi(t, id)); res["isError"] == true {
				t.Errorf("call %s answered %v", id, res)
			}
		}
		answered[id] = true
	}
	if len(answered) != calls+2 {
		t.Fatalf("answers for %v, want ids 0 to %d", answered, calls+1)
	}
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, s.stderr)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("id %q: %v", s, err)
	}
	return n
}

// More slow calls than the cap: the calls over it are refused at once
// with a retryable reason, a ping is still answered while the others
// wait, and closing stdin still ends the process once they finish.
func TestInFlightCapKeepsThePingAndTheEnd(t *testing.T) {
	w := newWorld(t)
	w.login(t, time.Now().Add(-time.Minute))
	rotated, release := holdRefreshes(t, w)
	s := w.serve(t, nil)
	s.initialize(t)
	// mcp-go alone ran the 106th queued call on its read loop.
	const calls = 120
	for id := 1; id <= calls; id++ {
		s.send(t, callLine(id, "whoami", `{}`))
	}
	<-rotated
	s.send(t, `{"jsonrpc":"2.0","id":"ping","method":"ping"}`)
	busy := 0
	for {
		m := s.next(t)
		if m["id"] == "ping" {
			break
		}
		res := toolResult(t, m, atoi(t, fmt.Sprint(m["id"])))
		if r := reason(res); r != string(envelope.ReasonBusy) {
			t.Fatalf("answer before the ping: %v, want reason %s", res, envelope.ReasonBusy)
		}
		busy++
	}
	if busy != calls-server.DefaultMaxCalls {
		t.Errorf("%d calls refused as busy, want %d", busy, calls-server.DefaultMaxCalls)
	}
	s.stdin.Close()
	s.awaitLog(t, "stdio: stopping")
	release()
	for range server.DefaultMaxCalls {
		m := s.next(t)
		if res := toolResult(t, m, atoi(t, fmt.Sprint(m["id"]))); res["isError"] == true {
			t.Errorf("a call under the cap was answered %v", res)
		}
	}
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, s.stderr)
	}
}

// A 10 MB argument is invalid_input at once, whether the id comes before
// the arguments or after them (as the TypeScript SDK writes it), and the
// server goes on answering.
func TestHugeArgumentIsInvalidInput(t *testing.T) {
	w := newWorld(t)
	s := w.serve(t, nil)
	s.initialize(t)
	query := `{"query":"` + strings.Repeat("users ", 10<<20/6) + `"}`
	for i, line := range []string{
		callLine(1, "api_endpoints", query),
		`{"method":"tools/call","params":{"name":"api_endpoints","arguments":` + query + `},"jsonrpc":"2.0","id":2}`,
	} {
		start := time.Now()
		s.send(t, line)
		res := toolResult(t, s.next(t), i+1)
		if r := reason(res); r != "invalid_input" {
			t.Fatalf("10 MB argument: %v, want invalid_input", res)
		}
		t.Logf("10 MB argument refused in %v", time.Since(start))
	}
	s.send(t, `{"jsonrpc":"2.0","id":"ping","method":"ping"}`)
	if m := s.next(t); m["id"] != "ping" {
		t.Fatalf("ping after the huge calls: %v", m)
	}
	if peak := peakRSS(t, s.cmd.Process.Pid); peak > rssLimit {
		t.Errorf("peak RSS %d MiB after two 10 MB arguments, want under %d MiB", peak>>20, rssLimit>>20)
	}
	// Over the string cap but under the line cap: refused before the
	// tool runs, by the same reason.
	s.send(t, callLine(3, "api_endpoints", fmt.Sprintf(`{"query":%q}`, strings.Repeat("x", server.MaxStringBytes+1))))
	if r := reason(toolResult(t, s.next(t), 3)); r != "invalid_input" {
		t.Fatalf("a string over %d bytes: reason %q, want invalid_input", server.MaxStringBytes, r)
	}
	s.stdin.Close()
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
