package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/clients"
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
	st, err := cfg.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	oauth := auth.NewClient(cfg, nil)
	src := auth.NewSource(st, oauth, auth.SourceOptions{Logger: logger, Recheck: time.Millisecond})
	deps := tools.Deps{Config: cfg, Source: src, Store: st, HTTP: oauth.HTTPClient()}
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
	var v map[string]any
	json.Unmarshal(tool, &v)
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

func TestWhoami(t *testing.T) {
	h := newHarness(t, nil)
	h.login(t, time.Now().Add(time.Hour))
	res := h.call(t, "whoami", nil)
	if res.IsError {
		t.Fatalf("whoami failed: %s", text(t, res))
	}
	var got tools.WhoamiResult
	if err := json.Unmarshal([]byte(text(t, res)), &got); err != nil {
		t.Fatal(err)
	}
	u := fakeclerk.DefaultUser
	if got.UserID != u.ID || got.Email != u.Email || got.Name != u.Name || got.Auth != "oauth" || got.Issuer != h.cfg.BaseURL || got.ExpiresAt == "" {
		t.Fatalf("whoami = %+v", got)
	}
	if res.StructuredContent == nil {
		t.Fatal("whoami declares an output schema but returned no structuredContent")
	}
}

func TestWhoamiWithPlatformAPIKey(t *testing.T) {
	h := newHarness(t, nil)
	res := newHarnessWithKey(t, h, h.fake.PlatformAPIKey()).call(t, "whoami", nil)
	if res.IsError || !strings.Contains(text(t, res), `"auth":"platform_api_key"`) {
		t.Fatalf("whoami with a platform key: %s", text(t, res))
	}
}

func newHarnessWithKey(t *testing.T, h *harness, key string) *harness {
	t.Helper()
	cfg := h.cfg
	cfg.PlatformAPIKey = key
	deps := tools.Deps{Config: cfg, Source: h.source, Store: h.store}
	srv := server.New(server.Options{Tools: tools.All(deps), Version: "test"})
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Start(context.Background())
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	c.Initialize(context.Background(), init)
	return &harness{fake: h.fake, cfg: cfg, store: h.store, source: h.source, client: c, logs: h.logs}
}

func TestErrorReasons(t *testing.T) {
	t.Run("not_logged_in", func(t *testing.T) {
		h := newHarness(t, nil)
		for _, tool := range []string{"whoami"} {
			wantEnvelope(t, h.call(t, tool, nil), envelope.ReasonNotLoggedIn)
		}
		wantEnvelope(t, h.call(t, "api", map[string]any{"path": "/applications"}), envelope.ReasonNotLoggedIn)
	})
	t.Run("session_expired", func(t *testing.T) {
		h := newHarness(t, nil)
		h.login(t, time.Now().Add(-time.Minute))
		h.fake.RevokeAll()
		wantEnvelope(t, h.call(t, "whoami", nil), envelope.ReasonSessionExpired)
		// The refused session was deleted: the next call says not_logged_in.
		wantEnvelope(t, h.call(t, "whoami", nil), envelope.ReasonNotLoggedIn)
	})
	t.Run("refresh_failed", func(t *testing.T) {
		h := newHarness(t, nil)
		h.login(t, time.Now().Add(-time.Minute))
		h.fake.FailRefreshes(503)
		if b := wantEnvelope(t, h.call(t, "whoami", nil), envelope.ReasonRefreshFailed); !b.Retryable {
			t.Fatal("refresh_failed must be retryable")
		}
		if res := h.call(t, "whoami", nil); res.IsError {
			t.Fatalf("retry after 503: %s", text(t, res))
		}
	})
	t.Run("store_unavailable", func(t *testing.T) {
		h := newHarness(t, nil)
		h.login(t, time.Now().Add(time.Hour))
		os.WriteFile(h.store.File().Path(), []byte("{not json"), 0o600)
		b := wantEnvelope(t, h.call(t, "whoami", nil), envelope.ReasonStoreUnavailable)
		if !strings.Contains(b.Message, h.store.File().Path()) {
			t.Fatalf("message %q does not name the file", b.Message)
		}
	})
	t.Run("invalid_input", func(t *testing.T) {
		h := newHarness(t, nil)
		h.login(t, time.Now().Add(time.Hour))
		for _, p := range []string{"//evil.example/x", "https://evil.example/", `\users`, "/users@evil", "/users/../platform",
			"/users%2fx", "/users?x=1", "/us\x00ers", ""} {
			wantEnvelope(t, h.call(t, "api", map[string]any{"path": p}), envelope.ReasonInvalidInput)
		}
		wantEnvelope(t, h.call(t, "api", map[string]any{"path": "/users", "bogus": 1}), envelope.ReasonInvalidInput)
		wantEnvelope(t, h.call(t, "api", map[string]any{"path": "/users", "method": "TRACE"}), envelope.ReasonInvalidInput)
		if c := h.fake.Counts(); c.Platform+c.Backend != 0 {
			t.Fatalf("refused input still reached Clerk (%d requests)", c.Platform+c.Backend)
		}
	})
	t.Run("read_only", func(t *testing.T) {
		h := newHarness(t, func(d *tools.Deps) { d.ReadOnly = true })
		h.login(t, time.Now().Add(time.Hour))
		wantEnvelope(t, h.call(t, "api", map[string]any{"path": "/applications", "method": "POST", "body": map[string]any{"name": "x"}}), envelope.ReasonReadOnly)
		if res := h.call(t, "api", map[string]any{"path": "/applications"}); res.IsError {
			t.Fatalf("GET in read-only mode: %s", text(t, res))
		}
	})
	t.Run("missing_secret_key", func(t *testing.T) {
		h := newHarness(t, nil)
		h.login(t, time.Now().Add(time.Hour))
		wantEnvelope(t, h.call(t, "api", map[string]any{"target": "backend", "path": "/users"}), envelope.ReasonMissingSecretKey)
	})
	t.Run("api_error", func(t *testing.T) {
		h := newHarness(t, nil)
		h.login(t, time.Now().Add(time.Hour))
		b := wantEnvelope(t, h.call(t, "api", map[string]any{"path": "/applications/app_missing"}), envelope.ReasonAPIError)
		if b.Status != 404 || len(b.Errors) == 0 || b.TraceID == "" || !strings.Contains(b.Remedy, "path") {
			t.Fatalf("404 envelope lacks status, errors, trace id or path hint: %+v", b)
		}
	})
	t.Run("network_error", func(t *testing.T) {
		h := newHarness(t, func(d *tools.Deps) { d.Config.PlatformAPIURL = "http://127.0.0.1:1" })
		h.login(t, time.Now().Add(time.Hour))
		if b := wantEnvelope(t, h.call(t, "api", map[string]any{"path": "/applications"}), envelope.ReasonNetworkError); !b.Retryable {
			t.Fatal("network_error must be retryable")
		}
	})
}

func TestAPIPlatformAndBackend(t *testing.T) {
	h := newHarness(t, nil)
	h.login(t, time.Now().Add(time.Hour))
	res := h.call(t, "api", map[string]any{"path": "/applications"})
	if res.IsError || !strings.Contains(text(t, res), h.fake.ApplicationID()) {
		t.Fatalf("GET /applications: %s", text(t, res))
	}
	// The instance's secret key is resolved via the Platform API, used, and
	// never shown.
	res = h.call(t, "api", map[string]any{"target": "backend", "path": "/users", "application_id": h.fake.ApplicationID()})
	if res.IsError || !strings.Contains(text(t, res), fakeclerk.DefaultUser.ID) {
		t.Fatalf("GET /users via application_id: %s", text(t, res))
	}
	res = h.call(t, "api", map[string]any{"path": "/applications/" + h.fake.ApplicationID(), "query": map[string]any{"include_secret_keys": true}})
	out := text(t, res)
	for _, env := range []string{"development", "production"} {
		if strings.Contains(out, h.fake.SecretKey(env)) {
			t.Fatalf("secret key of %s shown unmasked: %s", env, out)
		}
	}
	if !strings.Contains(out, "sk_test_****") {
		t.Fatalf("masked key missing: %s", out)
	}
	before := h.fake.Counts().Platform
	h.call(t, "api", map[string]any{"target": "backend", "path": "/users", "application_id": h.fake.ApplicationID()})
	if h.fake.Counts().Platform != before {
		t.Fatal("the secret key was resolved again instead of taken from memory")
	}
}

func TestAPIRevealSecrets(t *testing.T) {
	h := newHarness(t, func(d *tools.Deps) { d.RevealSecrets = true })
	h.login(t, time.Now().Add(time.Hour))
	res := h.call(t, "api", map[string]any{"path": "/applications/" + h.fake.ApplicationID(), "query": map[string]any{"include_secret_keys": "true"}})
	if !strings.Contains(text(t, res), h.fake.SecretKey("development")) {
		t.Fatal("--reveal-secrets did not reveal the key")
	}
}

func TestDoctor(t *testing.T) {
	h := newHarness(t, nil)
	res := h.call(t, "doctor", nil)
	if res.IsError {
		t.Fatalf("doctor must report failing checks as data: %s", text(t, res))
	}
	var rep tools.DoctorReport
	json.Unmarshal([]byte(text(t, res)), &rep)
	if rep.OK || status(rep, "session_present") != tools.StatusFail {
		t.Fatalf("doctor without a session: %+v", rep)
	}
	h.login(t, time.Now().Add(time.Hour))
	res = h.call(t, "doctor", nil)
	rep = tools.DoctorReport{}
	json.Unmarshal([]byte(text(t, res)), &rep)
	if !rep.OK {
		t.Fatalf("doctor with a working session: %+v", rep)
	}
	for _, name := range []string{"configuration", "store", "session_present", "session_usable", "platform_api", "clock_skew", "session_saved", "secret_key"} {
		if status(rep, name) != tools.StatusPass {
			t.Errorf("check %s = %q, want pass (%+v)", name, status(rep, name), rep.Checks)
		}
	}
}

func status(r tools.DoctorReport, name string) string {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}

func TestPanicBecomesErrorResult(t *testing.T) {
	srv := server.New(server.Options{Tools: []tools.Tool{{
		Name: "boom", Description: "panics", InputSchema: json.RawMessage(`{"type":"object"}`),
		ReadOnly: true, Handler: func(context.Context, json.RawMessage) (any, error) { panic("kaboom") },
	}}})
	c, _ := client.NewInProcessClient(srv)
	defer c.Close()
	c.Start(context.Background())
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	c.Initialize(context.Background(), init)
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

// failingStore refuses writes while broken is set, like a full disk.
type failingStore struct {
	*store.Store
	broken atomic.Bool
}

func (f *failingStore) Save(ctx context.Context, s *store.Session) error {
	if f.broken.Load() {
		return errors.New("write session: no space left on device")
	}
	return f.Store.Save(ctx, s)
}

// Disk trouble during a refresh: the call succeeds on the token held in
// memory, doctor fails session_saved with a remedy, and once the disk is
// back the next call saves it and doctor passes again.
func TestDiskTroubleIsVisibleInDoctor(t *testing.T) {
	var fs *failingStore
	h := newHarness(t, func(d *tools.Deps) {
		fs = &failingStore{Store: d.Store}
		fs.broken.Store(true)
		d.Source = auth.NewSource(fs, auth.NewClient(d.Config, nil), auth.SourceOptions{Recheck: time.Millisecond})
	})
	old := h.login(t, time.Now().Add(-time.Minute))
	if res := h.call(t, "whoami", nil); res.IsError {
		t.Fatalf("whoami with a failing write: %s", text(t, res))
	}
	var rep tools.DoctorReport
	json.Unmarshal([]byte(text(t, h.call(t, "doctor", nil))), &rep)
	var saved tools.Check
	for _, c := range rep.Checks {
		if c.Name == "session_saved" {
			saved = c
		}
	}
	if rep.OK || saved.Status != tools.StatusFail || !strings.Contains(saved.Message, "no space left") ||
		!strings.Contains(saved.Remedy, h.cfg.ConfigDir) {
		t.Fatalf("doctor with an unsaved session: %+v", rep)
	}
	if s, _ := h.store.Load(context.Background()); s.RefreshToken != old.RefreshToken {
		t.Fatal("store changed although writes fail")
	}
	fs.broken.Store(false)
	time.Sleep(5 * time.Millisecond)
	if res := h.call(t, "whoami", nil); res.IsError {
		t.Fatal(text(t, res))
	}
	rep = tools.DoctorReport{}
	json.Unmarshal([]byte(text(t, h.call(t, "doctor", nil))), &rep)
	if !rep.OK || status(rep, "session_saved") != tools.StatusPass {
		t.Fatalf("doctor after the disk recovered: %+v", rep)
	}
	if s, _ := h.store.Load(context.Background()); !h.fake.RefreshTokenValid(s.RefreshToken) {
		t.Fatal("the stored refresh token is not the live one after recovery")
	}
}

// Big and hostile answers: a 50 MB body is cut at the cap without being
// read whole, invalid UTF-8 is repaired, and nesting deeper than a JSON
// decoder accepts comes back as text instead of breaking the result.
func TestAPIHostileResponses(t *testing.T) {
	h := newHarness(t, nil)
	h.login(t, time.Now().Add(time.Hour))
	var sent atomic.Int64
	h.fake.Handle("GET /v1/platform/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(`{"id":"user_x","name":"aaaaaaaaaaaaaaaaaaaa"},`, 1000))
		w.Write([]byte("["))
		for sent.Load() < 50<<20 {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		w.Write([]byte("{}]"))
	})
	h.fake.Handle("GET /v1/platform/latin1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{\"name\":\"Ren\xe9e \xff\xfe\"}"))
	})
	h.fake.Handle("GET /v1/platform/deep", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000)))
	})

	res := h.call(t, "api", map[string]any{"path": "/huge"})
	var got tools.APIResult
	if res.IsError || json.Unmarshal([]byte(text(t, res)), &got) != nil || got.Truncated == nil || !got.Truncated.TotalAtLeast || len(text(t, res)) > tools.DefaultMaxResultChars {
		t.Fatalf("50 MB answer: isError=%v truncated=%v body_text=%d bytes", res.IsError, got.Truncated, len(got.BodyText))
	}
	// The tool itself (no MCP encoding) allocates a few copies of the
	// 1 MiB cap, not the 50 MB answer.
	var apiTool tools.Tool
	for _, tl := range tools.All(tools.Deps{Config: h.cfg, Source: h.source, Store: h.store, HTTP: &http.Client{}}) {
		if tl.Name == "api" {
			apiTool = tl
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := apiTool.Handler(context.Background(), json.RawMessage(`{"path":"/huge"}`)); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	if alloc > 8<<20 {
		t.Errorf("the api tool allocated %d MiB for a 50 MB answer capped at 1 MiB", alloc>>20)
	}
	t.Logf("50 MB answer: the api tool allocated %.1f MiB; the fake sent %d MiB before the connection closed", float64(alloc)/(1<<20), sent.Load()>>20)
	time.Sleep(100 * time.Millisecond)
	if n := sent.Load(); n >= 50<<20 {
		t.Errorf("the server sent all %d MiB: the answer was read to the end", n>>20)
	}

	res = h.call(t, "api", map[string]any{"path": "/latin1"})
	got = tools.APIResult{}
	if res.IsError || json.Unmarshal([]byte(text(t, res)), &got) != nil || !strings.Contains(string(got.Body), "Ren\uFFFDe") {
		t.Fatalf("invalid UTF-8: %s", text(t, res))
	}

	res = h.call(t, "api", map[string]any{"path": "/deep"})
	got = tools.APIResult{}
	if res.IsError || json.Unmarshal([]byte(text(t, res)), &got) != nil || got.Body != nil || got.BodyText == "" || got.Truncated == nil || len(text(t, res)) > tools.DefaultMaxResultChars {
		t.Fatalf("deeply nested JSON: isError=%v body=%d body_text=%d", res.IsError, len(got.Body), len(got.BodyText))
	}
	// The server is still healthy.
	if res := h.call(t, "whoami", nil); res.IsError {
		t.Fatal(text(t, res))
	}
}

// An agent asking api_endpoints for "list users" gets GET /v1/users first,
// then calls it through api; no login is needed to search.
func TestAPIEndpointsFindsThePathForAPI(t *testing.T) {
	h := newHarness(t, nil)
	res := h.call(t, "api_endpoints", map[string]any{"query": "list users"})
	var got tools.EndpointsResult
	if res.IsError || json.Unmarshal([]byte(text(t, res)), &got) != nil || len(got.Endpoints) == 0 {
		t.Fatalf("api_endpoints without a session: %s", text(t, res))
	}
	first := got.Endpoints[0]
	if first.Method != "GET" || first.Path != "/v1/users" || first.Target != "backend" || first.HasBody {
		t.Fatalf("first match for \"list users\" = %+v", first)
	}
	if res.StructuredContent == nil {
		t.Fatal("no structured content")
	}
	res = h.call(t, "api_endpoints", map[string]any{"query": "ban user", "target": "platform", "limit": 2})
	got = tools.EndpointsResult{}
	json.Unmarshal([]byte(text(t, res)), &got)
	if len(got.Endpoints) == 0 || len(got.Endpoints) > 2 || got.Endpoints[0].Target != "platform" ||
		!strings.HasSuffix(got.Endpoints[0].Path, "/ban") || len(got.Endpoints[0].PathParams) != 3 {
		t.Fatalf("platform ban user: %+v", got)
	}
	wantEnvelope(t, h.call(t, "api_endpoints", map[string]any{"query": " "}), envelope.ReasonInvalidInput)
	wantEnvelope(t, h.call(t, "api_endpoints", map[string]any{"query": "users", "limit": 500}), envelope.ReasonInvalidInput)

	// The found path works with api as is.
	h.login(t, time.Now().Add(time.Hour))
	res = h.call(t, "api", map[string]any{"target": first.Target, "method": first.Method, "path": first.Path, "application_id": h.fake.ApplicationID()})
	if res.IsError {
		t.Fatalf("api with the path from api_endpoints: %s", text(t, res))
	}
	// A 404 points to api_endpoints.
	body := wantEnvelope(t, h.call(t, "api", map[string]any{"path": "/nope"}), envelope.ReasonAPIError)
	if !strings.Contains(body.Remedy, "api_endpoints") {
		t.Fatalf("404 remedy does not mention api_endpoints: %s", body.Remedy)
	}
}

// A machine whose clock is hours off: doctor says by how much and which
// way, as a warning, and the tools keep working.
func TestDoctorReportsClockSkew(t *testing.T) {
	h := newHarness(t, nil)
	tr := h.fake.Mint()
	ahead := time.Now().Add(3 * time.Hour)
	s := &store.Session{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: "Bearer",
		Expiry: ahead.Add(time.Hour), ObtainedAt: ahead, Issuer: h.cfg.BaseURL, ClientID: h.cfg.ClientID}
	if err := h.store.Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	var rep tools.DoctorReport
	json.Unmarshal([]byte(text(t, h.call(t, "doctor", nil))), &rep)
	for _, c := range rep.Checks {
		if c.Name == "clock_skew" {
			if c.Status != tools.StatusWarn || !strings.Contains(c.Message, "3h0m0s ahead of") {
				t.Fatalf("clock_skew = %+v", c)
			}
			if !rep.OK {
				t.Fatalf("skew alone failed doctor: %+v", rep)
			}
			return
		}
	}
	t.Fatalf("no clock_skew check: %+v", rep)
}

// doctor names the clients that run clerk-mcp and warns about an entry
// whose command is gone, with the command that fixes it.
func TestDoctorChecksClients(t *testing.T) {
	home := t.TempDir()
	h := newHarness(t, func(d *tools.Deps) {
		d.Clients = clients.Env{GOOS: "linux", Home: home, Getenv: func(string) string { return "" }}
	})
	h.login(t, time.Now().Add(time.Hour))
	self, _ := os.Executable()
	write := func(rel, content string) {
		path := filepath.Join(home, rel)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(content), 0o644)
	}
	check := func() tools.Check {
		var rep tools.DoctorReport
		json.Unmarshal([]byte(text(t, h.call(t, "doctor", nil))), &rep)
		for _, c := range rep.Checks {
			if c.Name == "clients" {
				return c
			}
		}
		t.Fatalf("no clients check: %+v", rep)
		return tools.Check{}
	}
	if c := check(); c.Status != tools.StatusWarn || !strings.Contains(c.Remedy, "clerk-mcp install --client") {
		t.Fatalf("no client configured: %+v", c)
	}
	write(".cursor/mcp.json", `{"mcpServers":{"clerk":{"command":"`+self+`","args":["serve"]}}}`)
	write(".codex/config.toml", "[mcp_servers.clerk]\ncommand = \"/gone/clerk-mcp\"\nargs = [\"serve\"]\n")
	c := check()
	if c.Status != tools.StatusWarn || !strings.Contains(c.Message, "Installed in Cursor") ||
		!strings.Contains(c.Message, "Codex runs /gone/clerk-mcp, which does not exist") || !strings.Contains(c.Remedy, "--client codex") {
		t.Fatalf("stale Codex entry: %+v", c)
	}
	os.Remove(filepath.Join(home, ".codex/config.toml"))
	if c := check(); c.Status != tools.StatusPass || c.Message != "Installed in Cursor." {
		t.Fatalf("one good entry: %+v", c)
	}
}
