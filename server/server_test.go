package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/spectest"
	"github.com/clerk-mcp/clerk-mcp/internal/syncbuf"
	"github.com/clerk-mcp/clerk-mcp/server"
	"github.com/clerk-mcp/clerk-mcp/store"
	"github.com/clerk-mcp/clerk-mcp/tools"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

var tokenShaped = regexp.MustCompile(`rt_[0-9a-f]{48}|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.`)

var update = flag.Bool("update", false, "rewrite the tool schema snapshots in testdata/tools")

// harness is a fake Clerk, a file store, and an in-process MCP client
// talking to a clerk-mcp server.
type harness struct {
	fake   *fakeclerk.Server
	cfg    auth.Config
	store  *store.Store
	source *auth.Source
	client *client.Client
	logs   *syncbuf.Buffer
}

func newHarness(t *testing.T, configure func(*tools.Deps)) *harness {
	t.Helper()
	fake := fakeclerk.New(t)
	spectest.Attach(t, fake)
	cfg := auth.Config{BaseURL: fake.URL, ClientID: fakeclerk.ClientID, PlatformAPIURL: fake.URL,
		BackendAPIURL: fake.URL, ConfigDir: filepath.Join(t.TempDir(), "clerk-mcp"), StoreMode: store.ModeFile}
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	deps, _, err := tools.NewDeps(cfg, auth.SourceOptions{Logger: logger, Recheck: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, src := deps.Store, deps.Source
	if configure != nil {
		configure(&deps)
	}
	srv := server.New(server.Options{Tools: tools.All(deps), Logger: logger, Version: "test"})
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return &harness{fake: fake, cfg: cfg, store: st, source: src, client: c, logs: logs}
}

// login stores a session minted at the fake, expiring at expiry.
func (h *harness) login(t *testing.T, expiry time.Time) *store.Session {
	t.Helper()
	tr := h.fake.Mint()
	s := &store.Session{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: "Bearer",
		Expiry: expiry, ObtainedAt: time.Now(), Issuer: h.cfg.BaseURL, ClientID: h.cfg.ClientID}
	if err := h.store.Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (h *harness) call(t *testing.T, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := h.client.CallTool(context.Background(), req)
	if err != nil {
		t.Fatalf("call %s: protocol error %v; tool failures must be isError results", name, err)
	}
	return res
}

func text(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("want one content item, got %d", len(res.Content))
	}
	tc, ok := res.Content[0].(mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want text", res.Content[0])
	}
	return tc.Text
}

// wantEnvelope asserts res is an isError result carrying the envelope with
// reason, and returns the envelope's body.
func wantEnvelope(t *testing.T, res *mcp.CallToolResult, reason envelope.Reason) *envelope.Error {
	t.Helper()
	if !res.IsError {
		t.Fatalf("want isError with reason %s, got success: %s", reason, text(t, res))
	}
	if res.StructuredContent != nil {
		t.Fatal("error result carries structuredContent; clients validate it against the output schema")
	}
	var env envelope.Body
	if err := json.Unmarshal([]byte(text(t, res)), &env); err != nil {
		t.Fatalf("error text is not the JSON envelope: %v", err)
	}
	body := env.Error
	if body == nil || body.Reason != reason || body.Message == "" || body.Remedy == "" {
		t.Fatalf("envelope = %s, want reason %s with message and remedy", text(t, res), reason)
	}
	return body
}

func TestToolsListAnnotationsAndSchemaSnapshots(t *testing.T) {
	h := newHarness(t, nil)
	res, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		a := tool.Annotations
		if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
			t.Errorf("%s: not all four annotations are set: %+v", tool.Name, a)
		}
		got, err := json.MarshalIndent(tool, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(got, []byte(`: true`)) && hasBareTrueSchema(t, got) {
			t.Errorf("%s: a schema contains a bare `true`", tool.Name)
		}
		path := filepath.Join("..", "testdata", "tools", tool.Name+".json")
		got = append(got, '\n')
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatalf("update snapshot: %v", err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./server -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: schema differs from %s; review and run go test ./server -update\n got: %s", tool.Name, path, got)
		}
	}
	slices.Sort(names)
	if strings.Join(names, ",") != "api,api_endpoints,doctor,whoami" {
		t.Fatalf("tools = %v", names)
	}
	for _, tool := range res.Tools {
		if tool.Name == "whoami" || tool.Name == "doctor" || tool.Name == "api_endpoints" {
			if *tool.Annotations.ReadOnlyHint != true || *tool.Annotations.DestructiveHint != false {
				t.Errorf("%s must be read-only and not destructive", tool.Name)
			}
		}
	}
}

// hasBareTrueSchema reports whether any schema position holds the literal
// true (as opposed to a boolean keyword value).
func hasBareTrueSchema(t *testing.T, tool []byte) bool {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(tool, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any, bool) bool
	walk = func(n any, isSchema bool) bool {
		switch x := n.(type) {
		case bool:
			return isSchema && x
		case map[string]any:
			for k, c := range x {
				switch k {
				case "properties":
					if m, ok := c.(map[string]any); ok {
						for _, p := range m {
							if walk(p, true) {
								return true
							}
						}
					}
				case "items", "additionalProperties":
					if _, ok := c.(bool); ok && k == "additionalProperties" {
						continue // false/true here is a keyword value, not a schema we emit as true
					}
					if walk(c, true) {
						return true
					}
				default:
					if walk(c, false) {
						return true
					}
				}
			}
		case []any:
			for _, c := range x {
				if walk(c, false) {
					return true
				}
			}
		}
		return false
	}
	return walk(v["inputSchema"], true) || walk(v["outputSchema"], true)
}

// What a tool returns reaches the client as MCP has it: a result as text
// and, for a tool with an output schema, the same JSON as
// structuredContent; a failure as an isError result whose text is the
// envelope, its fields intact. Which reason each failure has is tested
// with each tool, in package tools.
func TestResultsAndEnvelopesOverMCP(t *testing.T) {
	loggedIn := func(t *testing.T, h *harness) { h.login(t, time.Now().Add(time.Hour)) }
	for _, c := range []struct {
		name   string
		setup  func(*testing.T, *harness)
		tool   string
		args   map[string]any
		reason envelope.Reason // empty for a success
		check  func(*testing.T, *envelope.Error)
	}{
		{name: "whoami", setup: loggedIn, tool: "whoami"},
		{name: "api_endpoints", tool: "api_endpoints", args: map[string]any{"query": "list users"}},
		{name: "not_logged_in", tool: "whoami", reason: envelope.ReasonNotLoggedIn},
		{name: "refresh_failed", setup: func(t *testing.T, h *harness) {
			h.login(t, time.Now().Add(-time.Minute))
			h.fake.FailRefreshes(503)
		}, tool: "whoami", reason: envelope.ReasonRefreshFailed, check: func(t *testing.T, b *envelope.Error) {
			if !b.Retryable {
				t.Fatal("refresh_failed must be retryable")
			}
		}},
		{name: "invalid_input", setup: loggedIn, tool: "api", args: map[string]any{"path": "//evil.example/x"}, reason: envelope.ReasonInvalidInput},
		{name: "api_error", setup: loggedIn, tool: "api", args: map[string]any{"path": "/applications/app_missing"}, reason: envelope.ReasonAPIError,
			check: func(t *testing.T, b *envelope.Error) {
				if b.Status != 404 || len(b.Errors) == 0 || b.TraceID == "" || !strings.Contains(b.Remedy, "path") {
					t.Fatalf("404 envelope lacks status, errors, trace id or path hint: %+v", b)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil)
			if c.setup != nil {
				c.setup(t, h)
			}
			res := h.call(t, c.tool, c.args)
			if c.reason != "" {
				b := wantEnvelope(t, res, c.reason)
				if c.check != nil {
					c.check(t, b)
				}
				return
			}
			if res.IsError {
				t.Fatalf("%s failed: %s", c.tool, text(t, res))
			}
			if res.StructuredContent == nil {
				t.Fatalf("%s declares an output schema but returned no structuredContent", c.tool)
			}
			raw, err := json.Marshal(res.StructuredContent)
			if err != nil {
				t.Fatal(err)
			}
			var fromText, structured any
			if err := json.Unmarshal([]byte(text(t, res)), &fromText); err != nil {
				t.Fatalf("result text is not JSON: %v", err)
			}
			if err := json.Unmarshal(raw, &structured); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromText, structured) {
				t.Fatalf("structuredContent differs from the text:\n text: %s\n structured: %s", text(t, res), raw)
			}
		})
	}
}

func TestPanicBecomesErrorResult(t *testing.T) {
	srv := server.New(server.Options{Tools: []tools.Tool{{
		Name: "boom", Description: "panics", InputSchema: json.RawMessage(`{"type":"object"}`),
		ReadOnly: true, Handler: func(context.Context, json.RawMessage) (any, error) { panic("kaboom") },
	}}})
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	if _, err := c.Initialize(context.Background(), init); err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "boom"
	res, err := c.CallTool(context.Background(), req)
	if err != nil {
		t.Fatalf("panic surfaced as a protocol error: %v", err)
	}
	wantEnvelope(t, res, envelope.ReasonInternal)
}

// 24 concurrent calls after Clerk starts refusing the access token make
// exactly one refresh.
func TestConcurrentWhoamiAfter401MakeOneRefresh(t *testing.T) {
	h := newHarness(t, nil)
	h.login(t, time.Now().Add(time.Hour))
	if res := h.call(t, "whoami", nil); res.IsError {
		t.Fatal(text(t, res))
	}
	h.fake.InvalidateAccessTokens()
	var wg sync.WaitGroup
	failures := make(chan string, 24)
	for range 24 {
		wg.Go(func() {
			if res := h.call(t, "whoami", nil); res.IsError {
				failures <- text(t, res)
			}
		})
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Fatal(f)
	}
	if c := h.fake.Counts(); c.Refreshes != 1 || c.InvalidGrants != 0 {
		t.Fatalf("refreshes=%d invalid_grant=%d, want 1 and 0", c.Refreshes, c.InvalidGrants)
	}
}

// Leak test: no token or unmasked secret in any result or debug log line.
func TestNoSecretsInResultsOrLogs(t *testing.T) {
	h := newHarness(t, nil)
	first := h.login(t, time.Now().Add(-time.Minute))
	var outputs []string
	record := func(res *mcp.CallToolResult) { outputs = append(outputs, text(t, res)) }
	record(h.call(t, "whoami", nil))
	record(h.call(t, "doctor", nil))
	record(h.call(t, "api", map[string]any{"path": "/applications/" + h.fake.ApplicationID(), "query": map[string]any{"include_secret_keys": true}}))
	record(h.call(t, "api", map[string]any{"target": "backend", "path": "/users", "application_id": h.fake.ApplicationID()}))
	record(h.call(t, "api", map[string]any{"path": "/applications/nope"}))
	h.fake.InvalidateAccessTokens()
	record(h.call(t, "whoami", nil))
	h.fake.FailRefreshes(503)
	h.fake.InvalidateAccessTokens()
	record(h.call(t, "whoami", nil))
	h.fake.RevokeAll()
	h.fake.InvalidateAccessTokens()
	record(h.call(t, "whoami", nil))
	record(h.call(t, "api", map[string]any{"path": "//evil"}))

	secrets := []string{first.AccessToken, first.RefreshToken, h.fake.SecretKey("development"), h.fake.SecretKey("production")}
	all := strings.Join(outputs, "\n") + "\n" + h.logs.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Fatalf("a secret leaked into results or logs")
		}
	}
	if !strings.Contains(h.logs.String(), "refresh") {
		t.Fatal("debug logs show no refresh events; the leak test saw nothing")
	}
	// Tokens minted by later refreshes must not leak either: every JWT has
	// three dot-separated base64url parts and every refresh token is rt_
	// followed by 48 hex digits.
	if tokenShaped.MatchString(all) {
		t.Fatalf("a token-shaped string leaked:\n%s", all)
	}
}
