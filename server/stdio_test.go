package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/server"
	"github.com/clerk-mcp/clerk-mcp/tools"
)

// stdioRig serves a server with a "slow" tool, which announces each call
// on started and returns when release is closed (or, if it honours its
// context, when the call is cancelled), and an "echo" tool that counts
// its runs.
type stdioRig struct {
	in      *io.PipeWriter
	answers chan map[string]any
	started chan struct{}
	release chan struct{}
	echoes  atomic.Int32
	served  chan error
}

func newStdioRig(t *testing.T, ctx context.Context, st *server.Stdio, out func(io.Writer) io.Writer) *stdioRig {
	t.Helper()
	r := &stdioRig{answers: make(chan map[string]any, 1000), started: make(chan struct{}, 100),
		release: make(chan struct{}), served: make(chan error, 1)}
	schema := json.RawMessage(`{"type":"object"}`)
	srv := server.New(server.Options{Tools: []tools.Tool{
		{Name: "slow", InputSchema: schema, ReadOnly: true, Handler: func(ctx context.Context, _ json.RawMessage) (any, error) {
			r.started <- struct{}{}
			select {
			case <-r.release:
				return map[string]string{"done": "yes"}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}},
		{Name: "echo", InputSchema: schema, ReadOnly: true, Handler: func(_ context.Context, args json.RawMessage) (any, error) {
			r.echoes.Add(1)
			return args, nil
		}},
	}})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	r.in = inW
	var w io.Writer = outW
	if out != nil {
		w = out(outW)
	}
	go func() {
		r.served <- st.Serve(ctx, srv, inR, w)
		outW.Close()
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"bad": sc.Text()}
			}
			r.answers <- m
		}
		close(r.answers)
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-r.release:
		default:
			close(r.release)
		}
	})
	r.send(t, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`+"\n")
	r.next(t)
	return r
}

func (r *stdioRig) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(r.in, line); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func (r *stdioRig) call(t *testing.T, id int, tool, args string) {
	t.Helper()
	r.send(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`+"\n", id, tool, args))
}

func (r *stdioRig) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m, ok := <-r.answers:
		if !ok {
			t.Fatal("stdout closed")
		}
		if m["bad"] != nil || m["jsonrpc"] != "2.0" {
			t.Fatalf("not JSON-RPC on stdout: %v", m)
		}
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("no answer")
	}
	return nil
}

func (r *stdioRig) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.served:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
	}
	return nil
}

// envelopeReason is the reason in an isError tools/call answer, or "".
func envelopeReason(m map[string]any) string {
	res, _ := m["result"].(map[string]any)
	if res == nil || res["isError"] != true {
		return ""
	}
	text, _ := res["content"].([]any)[0].(map[string]any)["text"].(string)
	var env struct{ Error struct{ Reason string } }
	json.Unmarshal([]byte(text), &env)
	return env.Error.Reason
}

// The end of stdin or of the context stops reading but not the calls in
// flight: they are answered with their results, then Serve returns.
func TestStdioShutdownFinishesCalls(t *testing.T) {
	for _, how := range []string{"eof", "context"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := newStdioRig(t, ctx, &server.Stdio{}, nil)
			r.call(t, 1, "slow", `{}`)
			r.call(t, 2, "slow", `{}`)
			<-r.started
			<-r.started
			if how == "eof" {
				r.in.Close()
			} else {
				cancel()
			}
			select {
			case err := <-r.served:
				t.Fatalf("Serve returned with calls in flight: %v", err)
			default:
			}
			close(r.release)
			for range 2 {
				if m := r.next(t); envelopeReason(m) != "" || m["result"] == nil {
					t.Fatalf("call in flight answered %v", m)
				}
			}
			if err := r.wait(t); err != nil {
				t.Fatalf("Serve: %v", err)
			}
		})
	}
}

// A call that outlives the drain is cancelled, answered as such, and
// Serve returns.
func TestStdioDrainIsBounded(t *testing.T) {
	r := newStdioRig(t, context.Background(), &server.Stdio{Drain: time.Millisecond}, nil)
	r.call(t, 1, "slow", `{}`)
	<-r.started
	r.in.Close()
	if m := r.next(t); envelopeReason(m) != "network_error" {
		t.Fatalf("call cut by the drain answered %v, want network_error", m)
	}
	if err := r.wait(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// Calls over the cap are refused at once and retryably, without running;
// pings and the other requests are still answered meanwhile.
func TestStdioCapOnCallsInFlight(t *testing.T) {
	r := newStdioRig(t, context.Background(), &server.Stdio{MaxCalls: 2}, nil)
	r.call(t, 1, "slow", `{}`)
	r.call(t, 2, "slow", `{}`)
	<-r.started
	<-r.started
	r.call(t, 3, "echo", `{}`)
	m := r.next(t)
	if fmt.Sprint(m["id"]) != "3" || envelopeReason(m) != string(envelope.ReasonBusy) || !strings.Contains(fmt.Sprint(m), `"retryable":true`) {
		t.Fatalf("call over the cap: %v", m)
	}
	if r.echoes.Load() != 0 {
		t.Fatal("a call over the cap ran")
	}
	r.send(t, `{"jsonrpc":"2.0","id":"p","method":"ping"}`+"\n")
	if m := r.next(t); m["id"] != "p" {
		t.Fatalf("ping at the cap: %v", m)
	}
	close(r.release)
	r.next(t)
	r.next(t)
	r.call(t, 4, "echo", `{}`) // a slot is free again
	if m := r.next(t); fmt.Sprint(m["id"]) != "4" || envelopeReason(m) != "" {
		t.Fatalf("call after the others finished: %v", m)
	}
}

// Hostile lines: a string argument over the cap never reaches the tool; a
// message over the line cap is answered from its id and method alone,
// wherever the id is; one without an id is dropped; blank lines are
// skipped; a last line without a newline is served.
func TestStdioHostileLines(t *testing.T) {
	r := newStdioRig(t, context.Background(), &server.Stdio{MaxLine: 64 << 10}, nil)
	long := strings.Repeat("a", server.MaxStringBytes+1)
	r.call(t, 1, "echo", fmt.Sprintf(`{"k":%q}`, long[:40<<10]))
	if m := r.next(t); envelopeReason(m) != "" {
		t.Fatalf("a 40 KiB argument: %v", m)
	}
	r.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"k":"`+long+`"}}}`+"\n")
	if m := r.next(t); fmt.Sprint(m["id"]) != "2" || envelopeReason(m) != "invalid_input" {
		t.Fatalf("an argument over the string cap: %v", m)
	}
	r.send(t, `{"method":"tools/call","params":{"name":"echo","arguments":{"k":"`+long+`"}},"jsonrpc":"2.0","id":"last"}`+"\n")
	if m := r.next(t); m["id"] != "last" || envelopeReason(m) != "invalid_input" {
		t.Fatalf("an over-long call with its id last: %v", m)
	}
	r.send(t, `{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"x":"`+long+`"}}`+"\n")
	if m := r.next(t); fmt.Sprint(m["id"]) != "3" || m["error"] == nil {
		t.Fatalf("an over-long request: %v", m)
	}
	r.send(t, `{"jsonrpc":"2.0","method":"notifications/x","params":{"x":"`+long+`"}}`+"\n\n  \r\n")
	r.send(t, `{"jsonrpc":"2.0","id":"half",`)
	r.send(t, `"method":"ping"}`)
	r.in.Close()
	if m := r.next(t); m["id"] != "half" {
		t.Fatalf("the last line without a newline: %v", m)
	}
	if n := r.echoes.Load(); n != 1 {
		t.Fatalf("echo ran %d times, want once", n)
	}
	if err := r.wait(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// brokenWriter fails every write after the first n, as stdout does once
// the client has closed its end.
type brokenWriter struct {
	w io.Writer
	n int
}

func (b *brokenWriter) Write(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errors.New("broken pipe")
	}
	b.n--
	return b.w.Write(p)
}

// When stdout breaks, Serve stops reading, lets the calls in flight end,
// and returns: nobody can read what more requests would produce.
func TestStdioStopsWhenStdoutBreaks(t *testing.T) {
	r := newStdioRig(t, context.Background(), &server.Stdio{}, func(w io.Writer) io.Writer { return &brokenWriter{w: w, n: 1} })
	r.call(t, 1, "slow", `{}`)
	<-r.started
	r.send(t, `{"jsonrpc":"2.0","id":"p","method":"ping"}`+"\n") // its answer fails to write
	close(r.release)
	if err := r.wait(t); err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// Ready runs once, after the first answer has gone out (the start-up log
// line must not delay the answer a client waits for), or when Serve ends
// without having answered anything.
func TestStdioReadyRunsAfterTheFirstAnswer(t *testing.T) {
	ready := make(chan struct{}, 10)
	var answered atomic.Bool
	st := &server.Stdio{Ready: func() {
		if !answered.Load() {
			t.Error("Ready ran before the first answer was written")
		}
		ready <- struct{}{}
	}}
	r := newStdioRig(t, context.Background(), st, func(w io.Writer) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			n, err := w.Write(p)
			answered.Store(true)
			return n, err
		})
	})
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("Ready did not run after the initialize answer")
	}
	r.call(t, 1, "echo", `{}`)
	r.next(t)
	r.in.Close()
	if err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	if n := len(ready); n != 0 {
		t.Fatalf("Ready ran %d more times", n)
	}

	// Nothing ever asked: Ready still runs, once, as Serve returns.
	runs := 0
	st = &server.Stdio{Ready: func() { runs++ }}
	srv := server.New(server.Options{})
	if err := st.Serve(context.Background(), srv, strings.NewReader(""), io.Discard); err != nil {
		t.Fatal(err)
	}
	if runs != 1 {
		t.Fatalf("Ready ran %d times on an empty stdin, want 1", runs)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
