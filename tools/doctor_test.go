package tools

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/clients"
	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// depsFor is what a server for cfg would give the tools.
func depsFor(t *testing.T, cfg auth.Config) Deps {
	t.Helper()
	d, _, err := NewDeps(cfg, auth.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func findCheck(t *testing.T, r *DoctorReport, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", name, r.Checks)
	return Check{}
}

// With Clerk unreachable, doctor says in words what it could not reach
// and which setting to check: no Go error text, and no "run doctor".
func TestDoctorSaysWhatIsUnreachable(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	e.fake.Close()
	r := Doctor(context.Background(), depsFor(t, e.cfg))
	if r.OK {
		t.Fatal("doctor passed with Clerk down")
	}
	for _, want := range []struct{ check, service, setting string }{
		{"session_usable", "Clerk's OAuth server", "CLERK_OAUTH_BASE_URL"},
		{"platform_api", "the Clerk Platform API", "CLERK_PLATFORM_API_URL"},
	} {
		c := findCheck(t, r, want.check)
		if c.Status != StatusFail || !strings.Contains(c.Message, "Could not reach "+want.service+" at "+e.cfg.BaseURL) ||
			!strings.Contains(c.Message, "connection was refused") {
			t.Errorf("%s: %+v", want.check, c)
		}
		if strings.Contains(c.Message, "dial tcp") || strings.Contains(c.Message, "127.0.0.1:0") ||
			!strings.Contains(c.Remedy, want.setting) || strings.Contains(c.Remedy, "clerk-mcp doctor") {
			t.Errorf("%s speaks Go or sends the user in circles: %+v", want.check, c)
		}
	}
}

// Not logged in here, but logged in under another profile and another
// issuer in the same config directory: doctor names both sessions and
// the settings that select them, in words for the user.
func TestDoctorNamesSessionsElsewhere(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	staging := e.cfg
	staging.BaseURL = "https://staging.example.test"
	st, err := staging.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(context.Background(), &store.Session{AccessToken: "at", RefreshToken: "rt",
		Expiry: time.Now().Add(time.Hour), Issuer: staging.BaseURL, ClientID: staging.ClientID}); err != nil {
		t.Fatal(err)
	}

	work := e.cfg
	work.Profile = "work"
	c := findCheck(t, Doctor(context.Background(), depsFor(t, work)), "session_present")
	for _, want := range []string{`profile "work"`, `profile "default" on ` + e.cfg.BaseURL, `on https://staging.example.test`} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("message does not say %q: %s", want, c.Message)
		}
	}
	for _, want := range []string{"CLERK_PROFILE", "CLERK_OAUTH_BASE_URL=https://staging.example.test", "`clerk-mcp login --profile work`"} {
		if !strings.Contains(c.Remedy, want) {
			t.Errorf("remedy does not say %q: %s", want, c.Remedy)
		}
	}
	if strings.Contains(c.Remedy, "Ask the user") {
		t.Errorf("doctor's remedy speaks to the agent: %s", c.Remedy)
	}
}

func TestDoctor(t *testing.T) {
	e := newToolEnv(t, nil)
	// Failing checks are data, not an error.
	rep := decode[DoctorReport](t, e.ok(t, "doctor", nil))
	if rep.OK || findCheck(t, &rep, "session_present").Status != StatusFail {
		t.Fatalf("doctor without a session: %+v", rep)
	}
	e.login(t, time.Now().Add(time.Hour))
	rep = decode[DoctorReport](t, e.ok(t, "doctor", nil))
	if !rep.OK {
		t.Fatalf("doctor with a working session: %+v", rep)
	}
	for _, name := range []string{"configuration", "store", "session_present", "session_usable", "platform_api", "clock_skew", "session_saved", "secret_key"} {
		if c := findCheck(t, &rep, name); c.Status != StatusPass {
			t.Errorf("check %s = %q, want pass (%+v)", name, c.Status, rep.Checks)
		}
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
	e := newToolEnv(t, func(d *Deps) {
		fs = &failingStore{Store: d.Store}
		fs.broken.Store(true)
		d.Source = auth.NewSource(fs, auth.NewClient(d.Config, nil), auth.SourceOptions{Recheck: time.Millisecond})
	})
	old := e.login(t, time.Now().Add(-time.Minute))
	if _, err := e.call(t, "whoami", nil); err != nil {
		t.Fatalf("whoami with a failing write: %s", envelope.Marshal(err))
	}
	rep := decode[DoctorReport](t, e.ok(t, "doctor", nil))
	saved := findCheck(t, &rep, "session_saved")
	if rep.OK || saved.Status != StatusFail || !strings.Contains(saved.Message, "no space left") ||
		!strings.Contains(saved.Remedy, e.cfg.ConfigDir) {
		t.Fatalf("doctor with an unsaved session: %+v", rep)
	}
	s, err := e.store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.RefreshToken != old.RefreshToken {
		t.Fatal("store changed although writes fail")
	}
	fs.broken.Store(false)
	time.Sleep(5 * time.Millisecond)
	e.ok(t, "whoami", nil)
	rep = decode[DoctorReport](t, e.ok(t, "doctor", nil))
	if !rep.OK || findCheck(t, &rep, "session_saved").Status != StatusPass {
		t.Fatalf("doctor after the disk recovered: %+v", rep)
	}
	s, err = e.store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !e.fake.RefreshTokenValid(s.RefreshToken) {
		t.Fatal("the stored refresh token is not the live one after recovery")
	}
}

// A machine whose clock is hours off: doctor says by how much and which
// way, as a warning, and the tools keep working.
func TestDoctorReportsClockSkew(t *testing.T) {
	e := newToolEnv(t, nil)
	tr := e.fake.Mint()
	ahead := time.Now().Add(3 * time.Hour)
	s := &store.Session{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, TokenType: "Bearer",
		Expiry: ahead.Add(time.Hour), ObtainedAt: ahead, Issuer: e.cfg.BaseURL, ClientID: e.cfg.ClientID}
	if err := e.store.Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	rep := decode[DoctorReport](t, e.ok(t, "doctor", nil))
	c := findCheck(t, &rep, "clock_skew")
	if c.Status != StatusWarn || !strings.Contains(c.Message, "3h0m0s ahead of") {
		t.Fatalf("clock_skew = %+v", c)
	}
	if !rep.OK {
		t.Fatalf("skew alone failed doctor: %+v", rep)
	}
}

// doctor names the clients that run clerk-mcp and warns about an entry
// whose command is gone, with the command that fixes it.
func TestDoctorChecksClients(t *testing.T) {
	home := t.TempDir()
	e := newToolEnv(t, func(d *Deps) {
		d.Clients = clients.Env{GOOS: "linux", Home: home, Getenv: func(string) string { return "" }}
	})
	e.login(t, time.Now().Add(time.Hour))
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	write := func(rel, content string) {
		path := filepath.Join(home, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func() Check {
		rep := decode[DoctorReport](t, e.ok(t, "doctor", nil))
		return findCheck(t, &rep, "clients")
	}
	if c := check(); c.Status != StatusWarn || !strings.Contains(c.Remedy, "clerk-mcp install --client") {
		t.Fatalf("no client configured: %+v", c)
	}
	write(".cursor/mcp.json", `{"mcpServers":{"clerk":{"command":"`+self+`","args":["serve"]}}}`)
	write(".codex/config.toml", "[mcp_servers.clerk]\ncommand = \"/gone/clerk-mcp\"\nargs = [\"serve\"]\n")
	c := check()
	if c.Status != StatusWarn || !strings.Contains(c.Message, "Installed in Cursor") ||
		!strings.Contains(c.Message, "Codex runs /gone/clerk-mcp, which does not exist") || !strings.Contains(c.Remedy, "--client codex") {
		t.Fatalf("stale Codex entry: %+v", c)
	}
	if err := os.Remove(filepath.Join(home, ".codex/config.toml")); err != nil {
		t.Fatal(err)
	}
	if c := check(); c.Status != StatusPass || c.Message != "Installed in Cursor." {
		t.Fatalf("one good entry: %+v", c)
	}
}
