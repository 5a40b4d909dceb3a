package tools

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// depsFor is what a server for cfg would give the tools.
func depsFor(t *testing.T, cfg auth.Config) Deps {
	t.Helper()
	st, err := cfg.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	client := auth.NewClient(cfg, nil)
	return Deps{Config: cfg, Source: auth.NewSource(st, client, auth.SourceOptions{}), Store: st, HTTP: client.HTTPClient()}
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

// The whoami tool says which profile the server runs as.
func TestWhoamiNamesProfile(t *testing.T) {
	e := newAPIEnv(t, func(d *Deps) { d.Config.Profile = "work" })
	d := depsFor(t, e.cfg)
	e.termStore = d.Store
	e.login(t)
	res, err := Whoami(context.Background(), d)
	if err != nil || res.Profile != "work" {
		t.Fatalf("whoami: %v %+v", err, res)
	}
}
