package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/spectest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Login from the agent, driven through the real binary: the official Go
// SDK client (with and without URL elicitation, on the current protocol
// and on 2025-11-25), raw JSON-RPC over pipes, and a terminal login.

// elicitingClient is a client that declared URL-mode elicitation; answer
// plays the user for each request.
type elicitingClient struct {
	mu       sync.Mutex
	requests []*mcp.ElicitParams
	answer   func(p *mcp.ElicitParams) string // the action
}

func (c *elicitingClient) handle(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	c.mu.Lock()
	c.requests = append(c.requests, req.Params)
	c.mu.Unlock()
	return &mcp.ElicitResult{Action: c.answer(req.Params)}, nil
}

func (c *elicitingClient) asked() []*mcp.ElicitParams {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*mcp.ElicitParams(nil), c.requests...)
}

// connectEliciting starts clerk-mcp serve under the Go SDK client with
// URL and form elicitation, on protocol version (empty: the SDK's latest).
func (w *world) connectEliciting(t *testing.T, ec *elicitingClient, version string, args ...string) *mcp.ClientSession {
	t.Helper()
	return w.connectWith(t, &mcp.ClientOptions{
		Capabilities: &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{
			Form: &mcp.FormElicitationCapabilities{}, URL: &mcp.URLElicitationCapabilities{}}},
		ElicitationHandler: ec.handle,
	}, version, args...)
}

// connectWith starts clerk-mcp serve under the Go SDK client named
// "eliciting" with opts, on protocol version (empty: the SDK's latest).
func (w *world) connectWith(t *testing.T, opts *mcp.ClientOptions, version string, args ...string) *mcp.ClientSession {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	cmd.Env = w.env
	client := mcp.NewClient(&mcp.Implementation{Name: "eliciting", Version: "1"}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var sopts *mcp.ClientSessionOptions
	if version != "" {
		sopts = &mcp.ClientSessionOptions{ProtocolVersion: version}
	}
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// browse plays the user's browser on a login link: Clerk approves and
// redirects to clerk-mcp's loopback callback, which is followed.
func browse(t *testing.T, link string) int {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Errorf("browser: %v", err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// approve visits a login link at Clerk and returns the callback URL Clerk
// redirected to, without following it.
func approve(t *testing.T, link string) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// loginEnvelope is the envelope's error object with the login fields.
type loginEnvelope struct {
	Reason         string `json:"reason"`
	Remedy         string `json:"remedy"`
	LoginURL       string `json:"login_url"`
	LoginExpiresAt string `json:"login_expires_at"`
}

func envelopeOf(t *testing.T, res *mcp.CallToolResult) loginEnvelope {
	t.Helper()
	if !res.IsError || len(res.Content) == 0 {
		t.Fatalf("want an isError result, got %+v", res)
	}
	var env struct {
		Error loginEnvelope `json:"error"`
	}
	if err := json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &env); err != nil {
		t.Fatal(err)
	}
	return env.Error
}

// checkLink checks a not_logged_in envelope offering a login.
func checkLink(t *testing.T, w *world, e loginEnvelope) {
	t.Helper()
	if e.Reason != "not_logged_in" || !strings.HasPrefix(e.LoginURL, w.fake.URL+"/oauth/authorize?") ||
		!strings.Contains(e.Remedy, "login_url") {
		t.Fatalf("envelope = %+v, want not_logged_in with a login_url and a remedy naming it", e)
	}
	exp, err := time.Parse(time.RFC3339, e.LoginExpiresAt)
	if err != nil || time.Until(exp) < 9*time.Minute || time.Until(exp) > 10*time.Minute+time.Second {
		t.Fatalf("login_expires_at = %q (%v), want RFC 3339 in 10 minutes", e.LoginExpiresAt, err)
	}
	u, _ := url.Parse(e.LoginURL)
	if r, _ := url.Parse(u.Query().Get("redirect_uri")); r == nil || r.Hostname() != "127.0.0.1" || r.Path != "/callback" {
		t.Fatalf("redirect_uri = %q, want the 127.0.0.1 loopback callback", u.Query().Get("redirect_uri"))
	}
}

func whoamiOK(t *testing.T, res *mcp.CallToolResult) {
	t.Helper()
	if res.IsError || res.StructuredContent == nil {
		t.Fatalf("whoami: %+v", res)
	}
	if text := res.Content[0].(*mcp.TextContent).Text; !strings.Contains(text, fakeclerk.DefaultUser.ID) {
		t.Fatalf("whoami: %s", text)
	}
}

// A client with URL elicitation is asked to open the login link; the
// user logs in, and the same call finishes as if the session had been
// there. On protocol 2026-07-28 (the SDK's default) the question travels
// as an input-required result and a retried call; on 2025-11-25 as an
// elicitation/create request while the call waits.
func TestAgentLoginURLElicitationAccept(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		name := version
		if name == "" {
			name = "latest"
		}
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			spectest.Attach(t, w.fake)
			ec := &elicitingClient{answer: func(p *mcp.ElicitParams) string {
				if p.Mode != "url" {
					return "decline"
				}
				browse(t, p.URL) // the user opens the link and consents
				return "accept"
			}}
			cs := w.connectEliciting(t, ec, version)
			whoamiOK(t, callTool(t, cs, "whoami", nil))
			asked := ec.asked()
			if len(asked) != 1 || asked[0].Mode != "url" || asked[0].ElicitationID == "" ||
				!strings.HasPrefix(asked[0].URL, w.fake.URL+"/oauth/authorize?") {
				t.Fatalf("elicitations = %+v, want one URL-mode request for the authorize URL", asked)
			}
			if _, err := w.store(t).Load(context.Background()); err != nil {
				t.Fatalf("no session stored: %v", err)
			}
			// Logged in now: no more questions.
			whoamiOK(t, callTool(t, cs, "whoami", nil))
			if n := len(ec.asked()); n != 1 {
				t.Fatalf("%d elicitations, want 1", n)
			}
		})
	}
}

// Declining (or cancelling) the link ends the call with declined and
// stores nothing; the link no longer works.
func TestAgentLoginURLElicitationDecline(t *testing.T) {
	for _, action := range []string{"decline", "cancel"} {
		t.Run(action, func(t *testing.T) {
			w := newWorld(t)
			spectest.Attach(t, w.fake)
			ec := &elicitingClient{answer: func(*mcp.ElicitParams) string { return action }}
			cs := w.connectEliciting(t, ec, "")
			if r := reasonOf(t, callTool(t, cs, "whoami", nil)); r != "declined" {
				t.Fatalf("reason %q, want declined", r)
			}
			asked := ec.asked()
			if len(asked) != 1 {
				t.Fatalf("%d elicitations, want 1", len(asked))
			}
			// The abandoned login's listener closes: a late consent
			// reaches nothing.
			callback := approve(t, asked[0].URL)
			deadline := time.Now().Add(patience)
			for {
				resp, err := http.Get(callback)
				if err != nil {
					break
				}
				resp.Body.Close()
				if time.Now().After(deadline) {
					t.Fatal("the declined login's callback still answers")
				}
				time.Sleep(50 * time.Millisecond)
			}
			if _, err := w.store(t).Load(context.Background()); err == nil {
				t.Fatal("a declined login stored a session")
			}
		})
	}
}

// A client without elicitation gets the link in the envelope at once; the
// user follows it, and the retry succeeds. Calls meanwhile join the same
// login.
func TestAgentLoginLinkThenRetry(t *testing.T) {
	w := newWorld(t)
	spectest.Attach(t, w.fake)
	cs := w.connect(t)
	first := envelopeOf(t, callTool(t, cs, "whoami", nil))
	checkLink(t, w, first)
	second := envelopeOf(t, callTool(t, cs, "api", map[string]any{"path": "/applications"}))
	if second.LoginURL != first.LoginURL {
		t.Fatal("a second call started another login instead of joining the pending one")
	}
	if code := browse(t, first.LoginURL); code != http.StatusOK {
		t.Fatalf("callback page: %d", code)
	}
	whoamiOK(t, callTool(t, cs, "whoami", nil))
}

// A client that declared only form elicitation (`elicitation: {}` on
// 2025-06-18) is not asked to open a URL: it gets the link.
func TestAgentLoginFormOnlyClientGetsTheLink(t *testing.T) {
	w := newWorld(t)
	s := w.serve(t, nil)
	s.send(t, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"raw","version":"1"}}}`)
	if m := s.next(t); m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	s.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	s.send(t, callLine(1, "whoami", "{}"))
	res := toolResult(t, s.next(t), 1) // an elicitation/create here fails the test
	var env struct{ Error loginEnvelope }
	json.Unmarshal([]byte(res["content"].([]any)[0].(map[string]any)["text"].(string)), &env)
	checkLink(t, w, env.Error)
}

// A callback with the wrong state is answered 400 and ignored: the right
// one still completes the login.
func TestAgentLoginWrongStateCallbackIgnored(t *testing.T) {
	w := newWorld(t)
	spectest.Attach(t, w.fake)
	cs := w.connect(t)
	e := envelopeOf(t, callTool(t, cs, "whoami", nil))
	checkLink(t, w, e)
	callback := approve(t, e.LoginURL)
	forged, _ := url.Parse(callback)
	q := forged.Query()
	q.Set("state", "state-of-another-login")
	forged.RawQuery = q.Encode()
	resp, err := http.Get(forged.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong state answered %d, want 400", resp.StatusCode)
	}
	if again := envelopeOf(t, callTool(t, cs, "whoami", nil)); again.LoginURL != e.LoginURL {
		t.Fatal("the wrong-state callback ended the pending login")
	}
	if code := browse(t, callback); code != http.StatusOK {
		t.Fatalf("right callback: %d", code)
	}
	whoamiOK(t, callTool(t, cs, "whoami", nil))
}

// A login in a terminal ends the server's pending login: its listener
// closes, and a late callback changes nothing.
func TestAgentLoginEndsOnTerminalLogin(t *testing.T) {
	w := newWorld(t)
	spectest.Attach(t, w.fake)
	cmd := exec.Command(binary, "serve", "--log-level", "debug")
	cmd.Env = w.env
	var logs strings.Builder
	var logMu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	})
	client := mcp.NewClient(&mcp.Implementation{Name: "plain", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	e := envelopeOf(t, callTool(t, cs, "whoami", nil))
	checkLink(t, w, e)
	late := approve(t, e.LoginURL) // consented, but the redirect has not arrived yet

	self, _ := os.Executable()
	out, errOut, code := w.run(t, []string{"BROWSER=" + self, "CLERK_MCP_TEST_ROLE=browser"}, "login", "--timeout", "20s")
	if code != 0 {
		t.Fatalf("terminal login: exit %d\n%s%s", code, out, errOut)
	}
	stored, err := w.store(t).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(patience)
	for {
		logMu.Lock()
		done := strings.Contains(logs.String(), "agent login: ended with a session")
		logMu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pending login did not end:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp, err := http.Get(late); err == nil {
		resp.Body.Close()
		t.Fatalf("a late callback reached the ended login: %d", resp.StatusCode)
	}
	now, err := w.store(t).Load(context.Background())
	if err != nil || now.RefreshToken != stored.RefreshToken {
		t.Fatalf("the late callback changed the stored session (%v)", err)
	}
	whoamiOK(t, callTool(t, cs, "whoami", nil))
	logMu.Lock()
	defer logMu.Unlock()
	for _, secret := range []string{stored.AccessToken, stored.RefreshToken, "state=", "code_verifier"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the log holds %q:\n%s", secret, logs.String())
		}
	}
}

// `serve --no-agent-login`: not_logged_in without a link, and nothing
// listens.
func TestAgentLoginOff(t *testing.T) {
	w := newWorld(t)
	ec := &elicitingClient{answer: func(*mcp.ElicitParams) string { return "accept" }}
	cs := w.connectEliciting(t, ec, "", "--no-agent-login")
	e := envelopeOf(t, callTool(t, cs, "whoami", nil))
	if e.Reason != "not_logged_in" || e.LoginURL != "" || e.LoginExpiresAt != "" || strings.Contains(e.Remedy, "login_url") {
		t.Fatalf("envelope = %+v, want not_logged_in without a login", e)
	}
	if n := len(ec.asked()); n != 0 {
		t.Fatalf("%d elicitations with --no-agent-login", n)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// A 2025-11-25 client is sent elicitation/create while the call waits;
// if it answers with a JSON-RPC error the call falls back to the link,
// and if stdin closes meanwhile the call is answered at once (with the
// link) and the server exits 0 instead of waiting out the question.
func TestAgentLoginLegacyElicitationFallsBack(t *testing.T) {
	w := newWorld(t)
	s := w.serve(t, nil)
	s.send(t, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{"url":{}}},"clientInfo":{"name":"raw","version":"1"}}}`)
	if m := s.next(t); m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	s.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	linkOf := func(res map[string]any) loginEnvelope {
		t.Helper()
		var env struct{ Error loginEnvelope }
		json.Unmarshal([]byte(res["content"].([]any)[0].(map[string]any)["text"].(string)), &env)
		checkLink(t, w, env.Error)
		return env.Error
	}
	question := func() map[string]any {
		t.Helper()
		m := s.next(t)
		params, _ := m["params"].(map[string]any)
		if m["method"] != "elicitation/create" || params["mode"] != "url" || params["elicitationId"] == "" ||
			!strings.HasPrefix(fmt.Sprint(params["url"]), w.fake.URL+"/oauth/authorize?") {
			t.Fatalf("want a URL-mode elicitation/create, got %v", m)
		}
		return m
	}

	s.send(t, callLine(1, "whoami", "{}"))
	q := question()
	id, _ := json.Marshal(q["id"])
	s.send(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"error":{"code":-32603,"message":"no browser here"}}`, id))
	first := linkOf(toolResult(t, s.next(t), 1))

	s.send(t, callLine(2, "whoami", "{}"))
	question()
	start := time.Now()
	s.stdin.Close()
	if again := linkOf(toolResult(t, s.next(t), 2)); again.LoginURL != first.LoginURL {
		t.Fatal("the second call started another login")
	}
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d after stdin closed; stderr:\n%s", code, s.stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("exit took %s after stdin closed with a question pending", d)
	}
	t.Logf("answered and exited %s after stdin closed with a question pending", time.Since(start).Round(time.Millisecond))
}

// A session Clerk no longer honours (session_expired) gets the same
// offer, and the login replaces it.
func TestAgentLoginAfterSessionExpired(t *testing.T) {
	w := newWorld(t)
	spectest.Attach(t, w.fake)
	w.login(t, time.Now().Add(-time.Minute)) // expired access token
	w.fake.RevokeAll()                       // and a refresh token Clerk refuses
	cs := w.connect(t)
	e := envelopeOf(t, callTool(t, cs, "whoami", nil))
	if e.Reason != "session_expired" || e.LoginURL == "" || e.LoginExpiresAt == "" {
		t.Fatalf("envelope = %+v, want session_expired with a login", e)
	}
	if code := browse(t, e.LoginURL); code != http.StatusOK {
		t.Fatalf("callback page: %d", code)
	}
	whoamiOK(t, callTool(t, cs, "whoami", nil))
}

// Calls fired in parallel do not all wait on the user: two ask, the rest
// get the link at once and leave their slots free.
func TestAgentLoginBoundsWaitingCalls(t *testing.T) {
	w := newWorld(t)
	s := w.serve(t, nil)
	s.send(t, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{"url":{}}},"clientInfo":{"name":"raw","version":"1"}}}`)
	if m := s.next(t); m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	s.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for id := 1; id <= 4; id++ {
		s.send(t, callLine(id, "whoami", "{}"))
	}
	var questions []any
	links := 0
	for len(questions)+links < 4 {
		m := s.next(t)
		switch {
		case m["method"] == "elicitation/create":
			questions = append(questions, m["id"])
		case m["result"] != nil:
			res := m["result"].(map[string]any)
			var env struct{ Error loginEnvelope }
			json.Unmarshal([]byte(res["content"].([]any)[0].(map[string]any)["text"].(string)), &env)
			checkLink(t, w, env.Error)
			links++
		default:
			t.Fatalf("unexpected %v", m)
		}
	}
	if len(questions) != 2 || links != 2 {
		t.Fatalf("%d questions and %d links, want 2 and 2", len(questions), links)
	}
	for _, id := range questions {
		b, _ := json.Marshal(id)
		s.send(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"action":"decline"}}`, b))
	}
	for range questions {
		if r := reason(s.next(t)["result"].(map[string]any)); r != "declined" {
			t.Fatalf("reason %q, want declined", r)
		}
	}
}
