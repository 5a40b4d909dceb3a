package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// connect starts clerk-mcp under the official Go SDK client.
func (w *world) connect(t *testing.T, args ...string) *mcp.ClientSession {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = w.env
	client := mcp.NewClient(&mcp.Implementation{Name: "interop", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v", name, err)
	}
	return res
}

func reasonOf(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if !res.IsError || len(res.Content) == 0 {
		t.Fatalf("want an isError result, got %+v", res)
	}
	var env struct {
		Error struct{ Reason string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &env); err != nil {
		t.Fatal(err)
	}
	return env.Error.Reason
}

func TestGoSDKInterop(t *testing.T) {
	w := newWorld(t)
	cs := w.connect(t)
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil || len(tools.Tools) != 4 {
		t.Fatalf("tools/list: %v, %d tools", err, len(tools.Tools))
	}
	if r := reasonOf(t, callTool(t, cs, "whoami", nil)); r != "not_logged_in" {
		t.Fatalf("whoami without a session: reason %q", r)
	}
	// A login in a terminal is seen by the running server.
	w.login(t, time.Now().Add(time.Hour))
	time.Sleep(1100 * time.Millisecond)
	res := callTool(t, cs, "whoami", nil)
	if res.IsError || res.StructuredContent == nil {
		t.Fatalf("whoami after login: %+v", res)
	}
	if r := reasonOf(t, callTool(t, cs, "api", map[string]any{"path": "/applications/app_nope"})); r != "api_error" {
		t.Fatalf("404: reason %q", r)
	}
	if res := callTool(t, cs, "doctor", nil); res.IsError || res.StructuredContent == nil {
		t.Fatalf("doctor: %+v", res)
	}
}

// 6 server processes with 8 concurrent calls each, after expiry, make
// exactly one refresh.
func TestMultiProcessServersMakeOneRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	w := newWorld(t)
	w.login(t, time.Now().Add(time.Hour))
	var sessions []*mcp.ClientSession
	for range 6 {
		sessions = append(sessions, w.connect(t))
	}
	// Expire the stored session; servers have not loaded it yet.
	st := w.store(t)
	s, _ := st.Load(context.Background())
	s.Expiry = time.Now().Add(-time.Second)
	st.Save(context.Background(), s)
	before := w.fake.Counts()
	var wg sync.WaitGroup
	failures := make(chan string, 48)
	for _, cs := range sessions {
		for range 8 {
			wg.Go(func() {
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
				if err != nil {
					failures <- err.Error()
				} else if res.IsError {
					failures <- res.Content[0].(*mcp.TextContent).Text
				}
			})
		}
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Fatal(f)
	}
	after := w.fake.Counts()
	if got := after.Refreshes - before.Refreshes; got != 1 {
		t.Fatalf("%d refreshes for 6 processes x 8 calls, want 1", got)
	}
	if got := after.InvalidGrants - before.InvalidGrants; got != 0 {
		t.Fatalf("%d invalid_grant answers", got)
	}
}

// TestTypeScriptSDKInterop drives the binary with the official TypeScript
// SDK client (interop/ts; `npm ci` there installs it, as .ci/run does).
func TestTypeScriptSDKInterop(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "..", "interop", "ts"))
	_, nodeErr := exec.LookPath("node")
	_, sdkErr := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk"))
	if nodeErr != nil || sdkErr != nil {
		if os.Getenv("CLERK_MCP_REQUIRE_NODE") != "" {
			t.Fatalf("node or the TypeScript SDK is missing (%v, %v)", nodeErr, sdkErr)
		}
		t.Skip("node or interop/ts/node_modules missing: run `npm ci` in interop/ts")
	}
	w := newWorld(t)
	// run runs the steps and returns each step's JSON line by step.
	run := func(steps ...string) map[string]json.RawMessage {
		t.Helper()
		cmd := exec.Command("node", append([]string{filepath.Join(dir, "client.mjs"), binary}, steps...)...)
		cmd.Env = w.env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("TypeScript client: %v\n%s%s", err, out, stderr.String())
		}
		lines := make(map[string]json.RawMessage)
		for line := range strings.Lines(string(out)) {
			var l struct{ Step string }
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatalf("TypeScript client printed %q: %v", line, err)
			}
			lines[l.Step] = json.RawMessage(line)
		}
		return lines
	}
	out := run("list", "whoami-error:not_logged_in", "whoami-login", "endpoints-first:list users:GET /v1/users")
	// The TypeScript agent found the login link in the envelope's text.
	var link loginEnvelope
	if err := json.Unmarshal(out["whoami-login"], &link); err != nil {
		t.Fatal(err)
	}
	checkLink(t, w, link)

	w.login(t, time.Now().Add(time.Hour))
	del := "confirm-delete:" + w.fake.ApplicationID() + ":" + fakeclerk.DefaultUser.ID
	out = run("list", "whoami-ok", "api-error:api_error:/applications/app_nope", "api-error:invalid_input://evil", del)
	// It read confirmation.summary (what the user agreed to) and its retry
	// with the token was sent, once.
	var confirmed struct{ Summary string }
	if err := json.Unmarshal(out[del], &confirmed); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DELETE /v1/users/" + fakeclerk.DefaultUser.ID, "instance production"} {
		if !strings.Contains(confirmed.Summary, want) {
			t.Errorf("confirmation summary lacks %q: %s", want, confirmed.Summary)
		}
	}
	if n := w.fake.Counts().DeletedUsers; n != 1 {
		t.Fatalf("Clerk saw %d deletes, want 1", n)
	}
	stdout, stderr, code := w.run(t, nil, "audit", "--json")
	var entries []audit.Entry
	if code != 0 || json.Unmarshal([]byte(stdout), &entries) != nil || len(entries) != 2 ||
		entries[0].Refused != audit.RefusedConfirmationRequired || entries[1].Allowed != audit.AllowedToken ||
		entries[1].Status != 200 || entries[1].Client != "ts-interop" {
		t.Fatalf("audit --json: exit %d, want confirmation_required then allowed by token:\n%s%s", code, stdout, stderr)
	}
}

// notifications/cancelled for an in-flight api call aborts its HTTP request
// (Clerk sees the client go away) and the server keeps serving.
func TestCancelledCallAbortsRequest(t *testing.T) {
	w := newWorld(t)
	w.login(t, time.Now().Add(time.Hour))
	started := make(chan struct{}, 1)
	gone := make(chan time.Duration, 1)
	w.fake.Handle("GET /v1/platform/slow", func(rw http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		t0 := time.Now()
		select {
		case <-r.Context().Done():
			gone <- time.Since(t0)
		case <-time.After(20 * time.Second):
			rw.Write([]byte(`{}`))
		}
	})
	cs := w.connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "api", Arguments: map[string]any{"path": "/slow"}})
		errc <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the api call never reached Clerk")
	}
	time.Sleep(200 * time.Millisecond)
	cancel() // the SDK sends notifications/cancelled
	if err := <-errc; err == nil {
		t.Fatal("a cancelled call returned a result")
	}
	select {
	case d := <-gone:
		t.Logf("Clerk saw the request go away %s after it arrived", d.Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("the HTTP request to Clerk was not aborted by notifications/cancelled")
	}
	if res := callTool(t, cs, "whoami", nil); res.IsError {
		t.Fatalf("whoami after a cancelled call: %+v", res)
	}
}
