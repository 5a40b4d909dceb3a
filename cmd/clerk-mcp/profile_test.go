package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// wholeSeconds is an RFC 3339 time in UTC without fractional seconds, as
// every JSON output gives expires_at.
var wholeSeconds = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// loginProfile stores a session for profile, as `clerk-mcp login
// --profile` would.
func (w *world) loginProfile(t *testing.T, profile string, expiry time.Time) {
	t.Helper()
	st, err := store.Open(store.Options{Dir: w.dir, Issuer: w.fake.URL, ClientID: fakeclerk.ClientID, Profile: profile, Mode: store.ModeFile})
	if err != nil {
		t.Fatal(err)
	}
	tr := w.fake.Mint()
	if err := st.Save(context.Background(), &store.Session{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken,
		TokenType: "Bearer", Expiry: expiry, ObtainedAt: time.Now(), Issuer: w.fake.URL, ClientID: fakeclerk.ClientID}); err != nil {
		t.Fatal(err)
	}
}

// Not logged in: the terminal tells the user what to run; --json gives the
// agent's envelope, which says where it looked.
func TestWhoamiNotLoggedInSpeaksToEach(t *testing.T) {
	w := newWorld(t)
	_, errOut, code := w.run(t, nil, "whoami")
	if code != 1 || !strings.Contains(errOut, "Run `clerk-mcp login`") || strings.Contains(errOut, "Ask the user") {
		t.Fatalf("whoami in a terminal: exit %d: %s", code, errOut)
	}
	for _, want := range []string{w.fake.URL, `profile "default"`, w.dir} {
		if !strings.Contains(errOut, want) {
			t.Errorf("whoami does not say where it looked (%s): %s", want, errOut)
		}
	}
	out, _, code := w.run(t, nil, "whoami", "--json", "--profile", "work")
	var env struct{ Error envelope.Error }
	if code != 1 || json.Unmarshal([]byte(out), &env) != nil {
		t.Fatalf("whoami --json: exit %d: %s", code, out)
	}
	e := env.Error
	if e.Reason != envelope.ReasonNotLoggedIn || e.Issuer != w.fake.URL || e.Profile != "work" ||
		!strings.Contains(e.Store, w.dir) || !strings.Contains(e.Remedy, "Ask the user to run `clerk-mcp login --profile work`") {
		t.Fatalf("envelope %+v", e)
	}
}

// Two profiles side by side: each command picks one with --profile or
// CLERK_PROFILE, and `profiles` lists both.
func TestProfilesSideBySide(t *testing.T) {
	w := newWorld(t)
	w.login(t, time.Now().Add(time.Hour))
	w.loginProfile(t, "work", time.Now().Add(2*time.Hour))
	for _, how := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"whoami", "--json", "--profile", "work"}},
		{[]string{"CLERK_PROFILE=work"}, []string{"whoami", "--json"}},
	} {
		out, errOut, code := w.run(t, how.env, how.args...)
		var who whoamiResult
		if code != 0 || json.Unmarshal([]byte(out), &who) != nil || who.Profile != "work" ||
			!strings.Contains(who.Store, "-work.json") || !wholeSeconds.MatchString(who.ExpiresAt) {
			t.Fatalf("%v %v: exit %d\n%s%s", how.env, how.args, code, out, errOut)
		}
	}
	out, _, code := w.run(t, nil, "refresh", "--json", "--profile", "work")
	var refreshed struct {
		ExpiresAt string `json:"expires_at"`
		Profile   string `json:"profile"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &refreshed) != nil || refreshed.Profile != "work" || !wholeSeconds.MatchString(refreshed.ExpiresAt) {
		t.Fatalf("refresh --json: exit %d: %s", code, out)
	}

	out, errOut, code := w.run(t, nil, "profiles", "--json")
	var listed []profileListing
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || len(listed) != 2 {
		t.Fatalf("profiles --json: exit %d\n%s%s", code, out, errOut)
	}
	for i, want := range []string{"default", "work"} {
		l := listed[i]
		if l.Profile != want || l.Issuer != w.fake.URL || l.Backend != "file" || !wholeSeconds.MatchString(l.ExpiresAt) ||
			l.Current != (want == "default") {
			t.Errorf("profiles[%d] = %+v", i, l)
		}
	}
	out, _, code = w.run(t, []string{"CLERK_PROFILE=work"}, "profiles")
	if code != 0 || !regexp.MustCompile(`(?m)^\* work `).MatchString(out) || !regexp.MustCompile(`(?m)^  default `).MatchString(out) {
		t.Fatalf("profiles: exit %d:\n%s", code, out)
	}

	if _, errOut, code := w.run(t, nil, "whoami", "--profile", "../etc"); code != 1 || !strings.Contains(errOut, "invalid profile name") {
		t.Fatalf("whoami --profile ../etc: exit %d: %s", code, errOut)
	}
}

// doctor run with another profile than the session's says so, and speaks
// to the user.
func TestDoctorPointsToOtherProfile(t *testing.T) {
	w := newWorld(t)
	w.loginProfile(t, "work", time.Now().Add(time.Hour))
	out, _, code := w.run(t, nil, "doctor")
	if code != 1 || !strings.Contains(out, `profile "work" on `+w.fake.URL) || !strings.Contains(out, "--profile work") ||
		strings.Contains(out, "Ask the user") {
		t.Fatalf("doctor: exit %d:\n%s", code, out)
	}
}

// A login that times out says so once, and names the fix once.
func TestLoginTimeoutSaysItOnce(t *testing.T) {
	w := newWorld(t)
	_, errOut, code := w.run(t, nil, "login", "--no-browser", "--timeout", "1s", "--profile", "work")
	_, failure, _ := strings.Cut(errOut, "\nclerk-mcp: ")
	if code != 1 || !strings.HasPrefix(failure, "login timed out after 1s") {
		t.Fatalf("login: exit %d:\n%s", code, errOut)
	}
	if n := strings.Count(failure, "clerk-mcp login"); n != 1 || !strings.Contains(failure, "`clerk-mcp login --profile work` again") {
		t.Fatalf("the failure names the fix %d times:\n%s", n, failure)
	}
}

// `install --profile work` adds a second entry, clerk-work, that serves
// that profile, beside the default one.
func TestInstallProfileEntry(t *testing.T) {
	w := newWorld(t)
	for _, args := range [][]string{
		{"install", "--client", "cursor", "--command", binary},
		{"install", "--client", "cursor", "--command", binary, "--profile", "work"},
	} {
		if out, errOut, code := w.run(t, nil, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	data, err := os.ReadFile(filepath.Join(w.home(), ".cursor", "mcp.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		MCPServers map[string]struct {
			Command string
			Args    []string
		}
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	def, work := cfg.MCPServers["clerk"], cfg.MCPServers["clerk-work"]
	if strings.Join(def.Args, " ") != "serve" || strings.Join(work.Args, " ") != "serve --profile work" || work.Command != binary {
		t.Fatalf("entries: %s", data)
	}
	if out, _, code := w.run(t, nil, "uninstall", "--client", "cursor", "--profile", "work"); code != 0 {
		t.Fatalf("uninstall --profile work: exit %d: %s", code, out)
	}
	data, _ = os.ReadFile(filepath.Join(w.home(), ".cursor", "mcp.json"))
	if strings.Contains(string(data), "clerk-work") || !strings.Contains(string(data), `"clerk"`) {
		t.Fatalf("after uninstall --profile work: %s", data)
	}
}
