package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/spectest"
	"github.com/clerk-mcp/clerk-mcp/internal/syncbuf"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// binary is clerk-mcp built once for the tests that drive it as a user's
// editor or terminal would.
var binary string

// testRoles are other programs this test binary plays when re-executed
// with CLERK_MCP_TEST_ROLE set.
var testRoles = map[string]func(){
	// Play the browser: follow the authorize redirect into the callback.
	"browser": func() {
		resp, err := http.Get(os.Args[len(os.Args)-1])
		if err != nil {
			os.Exit(1)
		}
		resp.Body.Close()
		os.Exit(0)
	},
}

func TestMain(m *testing.M) {
	if role, ok := testRoles[os.Getenv("CLERK_MCP_TEST_ROLE")]; ok {
		role()
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "clerk-mcp-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "clerk-mcp")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build clerk-mcp: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// world is a fake Clerk and a config directory, as environment variables
// for clerk-mcp processes.
type world struct {
	fake *fakeclerk.Server
	dir  string
	env  []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	fake := fakeclerk.New(t)
	spectest.Attach(t, fake)
	dir := filepath.Join(t.TempDir(), "clerk-mcp")
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"CLERK_OAUTH_BASE_URL=" + fake.URL,
		"CLERK_PLATFORM_API_URL=" + fake.URL,
		"CLERK_BACKEND_API_URL=" + fake.URL,
		"CLERK_CONFIG_DIR=" + dir,
		"CLERK_MCP_STORE=file",
	}
	return &world{fake: fake, dir: dir, env: env}
}

func (w *world) store(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Dir: w.dir, Issuer: w.fake.URL, ClientID: fakeclerk.ClientID, Mode: store.ModeFile})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// login stores a session minted at the fake, expiring at expiry.
func (w *world) login(t *testing.T, expiry time.Time) *store.Session {
	t.Helper()
	tr := w.fake.Mint()
	s := &store.Session{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: "Bearer",
		Expiry: expiry, ObtainedAt: time.Now().Add(-time.Hour), Issuer: w.fake.URL, ClientID: fakeclerk.ClientID}
	if err := w.store(t).Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// run runs clerk-mcp with args and returns stdout, stderr and the exit code.
func (w *world) run(t *testing.T, extraEnv []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append([]string{}, w.env...), extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// A new user: login in the browser, whoami, logout, whoami again.
func TestLoginWhoamiLogoutAsAUser(t *testing.T) {
	w := newWorld(t)
	self, _ := os.Executable()
	out, errOut, code := w.run(t, []string{"BROWSER=" + self, "CLERK_MCP_TEST_ROLE=browser"}, "login", "--timeout", "20s")
	if code != 0 || !strings.Contains(out, "Ada Lovelace") || !strings.Contains(errOut, "/oauth/authorize?") {
		t.Fatalf("login: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	out, errOut, code = w.run(t, nil, "whoami", "--json")
	var who whoamiResult
	if code != 0 || json.Unmarshal([]byte(out), &who) != nil {
		t.Fatalf("whoami --json: exit %d\n%s%s", code, out, errOut)
	}
	if who.UserID != fakeclerk.DefaultUser.ID || who.Email != fakeclerk.DefaultUser.Email || who.Auth != "oauth" ||
		who.Issuer != w.fake.URL || !wholeSeconds.MatchString(who.ExpiresAt) || who.Profile != "default" || !strings.Contains(who.Store, w.dir) {
		t.Fatalf("whoami --json = %+v", who)
	}
	if out, _, code = w.run(t, nil, "whoami"); code != 0 || !strings.Contains(out, "ada@example.com") {
		t.Fatalf("whoami: exit %d: %s", code, out)
	}
	if out, _, code = w.run(t, nil, "refresh", "--json"); code != 0 || !strings.Contains(out, "expires_at") {
		t.Fatalf("refresh --json: exit %d: %s", code, out)
	}
	if out, errOut, code = w.run(t, nil, "logout"); code != 0 || !strings.Contains(out, "Logged out") {
		t.Fatalf("logout: exit %d\n%s%s", code, out, errOut)
	}
	if w.fake.Counts().Revocations != 1 {
		t.Fatal("logout did not revoke at Clerk")
	}
	out, _, code = w.run(t, nil, "whoami", "--json")
	var env map[string]envelope.Error
	if code != 1 || json.Unmarshal([]byte(out), &env) != nil || env["error"].Reason != envelope.ReasonNotLoggedIn {
		t.Fatalf("whoami --json after logout: exit %d: %s", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	w := newWorld(t)
	if _, _, code := w.run(t, nil, "nonsense"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	if _, _, code := w.run(t, nil, "whoami", "--bogus"); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	if out, _, code := w.run(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "clerk-mcp ") {
		t.Errorf("version: exit %d: %q", code, out)
	}
	if _, errOut, code := w.run(t, []string{"CLERK_OAUTH_BASE_URL=http://evil.example"}, "whoami"); code != 1 || !strings.Contains(errOut, "https") {
		t.Errorf("plain http to a remote host: exit %d: %s", code, errOut)
	}
	// doctor without a session: exit 1, one line per check.
	out, _, code := w.run(t, nil, "doctor")
	if code != 1 || !strings.Contains(out, "session_present") || !strings.Contains(out, "FAIL") {
		t.Errorf("doctor without a session: exit %d:\n%s", code, out)
	}
	w.login(t, time.Now().Add(time.Hour))
	if out, _, code := w.run(t, nil, "doctor", "--json"); code != 0 || !strings.Contains(out, `"ok": true`) {
		t.Errorf("doctor --json with a session: exit %d:\n%s", code, out)
	}
}

// `login --device` from a terminal: the user opens the printed URL with
// the code filled in (on any machine) and the login completes.
func TestLoginDeviceCommand(t *testing.T) {
	w := newWorld(t)
	w.fake.SetDeviceOptions(fakeclerk.DeviceOptions{Interval: 1})
	cmd := exec.Command(binary, "login", "--device", "--json", "--timeout", "30s")
	cmd.Env = w.env
	var stdout bytes.Buffer
	stderr := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	complete := regexp.MustCompile(`http://\S+/oauth/device\?user_code=\S+`)
	deadline := time.Now().Add(10 * time.Second)
	for !complete.MatchString(stderr.String()) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no verification URL printed:\n%s", stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get(complete.FindString(stderr.String()))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("approve in the browser: %v %v", err, resp)
	}
	resp.Body.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login --device: %v\n%s", err, stderr)
	}
	var res struct {
		Email, Store string
	}
	if json.Unmarshal(stdout.Bytes(), &res) != nil || res.Email != fakeclerk.DefaultUser.Email || !strings.Contains(res.Store, w.dir) {
		t.Fatalf("login --device --json: %s", stdout.String())
	}
	if out, _, code := w.run(t, nil, "whoami"); code != 0 || !strings.Contains(out, "ada@example.com") {
		t.Fatalf("whoami after device login: %s", out)
	}
}

// A hostile userinfo answer cannot put escape sequences or line breaks on
// the user's terminal through whoami.
func TestWhoamiPrintsCleanUserInfo(t *testing.T) {
	w := newWorld(t)
	evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		io.WriteString(rw, `{"sub":"user_1","email":"ada@example.com\u001b]0;owned\u0007",`+
			`"name":"\u001b[31mAda\u001b[0m\nclerk-mcp: logged out\u202e"}`)
	}))
	defer evil.Close()
	st, err := store.Open(store.Options{Dir: w.dir, Issuer: evil.URL, ClientID: fakeclerk.ClientID, Mode: store.ModeFile})
	if err != nil {
		t.Fatal(err)
	}
	s := &store.Session{AccessToken: "at", RefreshToken: "rt", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour),
		ObtainedAt: time.Now(), Issuer: evil.URL, ClientID: fakeclerk.ClientID}
	if err := st.Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := w.run(t, []string{"CLERK_OAUTH_BASE_URL=" + evil.URL}, "whoami")
	if code != 0 {
		t.Fatalf("whoami: exit %d\n%s%s", code, out, errOut)
	}
	first, _, _ := strings.Cut(out, "\n")
	if strings.ContainsAny(out, "\x1b\x07\r\u202e") || first != "Logged in to "+evil.URL+" as [31mAda[0m clerk-mcp: logged out <ada@example.com]0;owned> (user_1)" {
		t.Fatalf("whoami printed %q", out)
	}
}

// `whoami` is the whoami tool's answer: with a Platform API key and no
// session it reports the key, as the tool does, not a missing login.
func TestWhoamiWithPlatformAPIKey(t *testing.T) {
	w := newWorld(t)
	key := []string{"CLERK_PLATFORM_API_KEY=" + w.fake.PlatformAPIKey()}
	out, errOut, code := w.run(t, key, "whoami", "--json")
	var who whoamiResult
	if code != 0 || json.Unmarshal([]byte(out), &who) != nil {
		t.Fatalf("whoami --json with a Platform API key: exit %d\n%s%s", code, out, errOut)
	}
	if who.Auth != "platform_api_key" || who.UserID != "" || who.Store != "" {
		t.Fatalf("whoami --json = %+v, want auth platform_api_key and no user or session", who)
	}
	if out, _, code = w.run(t, key, "whoami"); code != 0 || !strings.Contains(out, "Platform API key") {
		t.Fatalf("whoami: exit %d: %s", code, out)
	}
	// A refused key is named, with the way out.
	out, errOut, code = w.run(t, []string{"CLERK_PLATFORM_API_KEY=ak_refused"}, "whoami")
	if code != 1 || !strings.Contains(errOut, "CLERK_PLATFORM_API_KEY") || !strings.Contains(errOut, "unset it") {
		t.Fatalf("whoami with a refused key: exit %d\n%s%s", code, out, errOut)
	}
}
