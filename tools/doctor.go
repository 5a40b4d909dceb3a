package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/clients"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// Check statuses.
const (
	StatusPass = "pass"
	StatusWarn = "warn"
	StatusFail = "fail"
)

// Check is one doctor finding.
type Check struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // StatusPass, StatusWarn or StatusFail
	Message string `json:"message"`
	Remedy  string `json:"remedy,omitempty"`
}

// DoctorReport is the doctor tool's structured output.
type DoctorReport struct {
	OK     bool    `json:"ok" jsonschema:"true when no check failed"`
	Checks []Check `json:"checks"`
}

// maxClockSkew is the skew between our clock and the issuer's beyond which
// doctor warns.
const maxClockSkew = 2 * time.Minute

var secretKeyFormat = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^sk_(live|test)_[A-Za-z0-9]{10,}$`) })

func doctorTool(d Deps) Tool {
	return Tool{
		Name:  "doctor",
		Title: "Diagnose the Clerk connection",
		Description: "Checks the configuration, the session store (backend, file permissions), whether a session " +
			"exists and works (refresh + userinfo), whether the Platform API answers, clock skew, whether a refreshed " +
			"session could be saved, the secret key format, and which MCP clients are configured to run clerk-mcp. Returns {ok, checks:[{name, status: pass|warn|fail, message, remedy}]}. " +
			"Use it when another tool fails in a way its remedy does not resolve; relay failing checks' remedies to the user.",
		InputSchema:  schema("doctor.input"),
		OutputSchema: schema("doctor.output"),
		ReadOnly:     true, Destructive: false, Idempotent: true, OpenWorld: false,
		Handler: func(ctx context.Context, args json.RawMessage) (any, error) {
			if err := decodeArgs(args, &noArgs{}); err != nil {
				return nil, err
			}
			return Doctor(ctx, d), nil
		},
	}
}

// Doctor runs every check. A failing check is data, not an error.
func Doctor(ctx context.Context, d Deps) *DoctorReport {
	r := &DoctorReport{}
	add := func(c Check) { r.Checks = append(r.Checks, c) }

	add(Check{Name: "configuration", Status: StatusPass,
		Message: fmt.Sprintf("OAuth %s (client %s), Platform API %s, Backend API %s, config dir %s, store mode %s",
			d.Config.BaseURL, d.Config.ClientID, d.Config.PlatformAPIURL, d.Config.BackendAPIURL, d.Config.ConfigDir, d.Config.StoreMode)})
	add(storeCheck(d.Store))

	sess, err := d.Source.Session(ctx)
	switch {
	case err == nil:
		add(Check{Name: "session_present", Status: StatusPass, Message: "A session is stored in " + d.Store.Location()})
	case d.Config.PlatformAPIKey != "":
		c := failed("session_present", StatusWarn, err)
		c.Message = "No usable OAuth session; CLERK_PLATFORM_API_KEY is used for the Platform API."
		add(c)
	default:
		add(sessionMissing(ctx, d, err))
	}

	if sess != nil {
		if info, err := d.Source.UserInfo(ctx); err != nil {
			c, ok := reachCheck("session_usable", "Clerk's OAuth server", "CLERK_OAUTH_BASE_URL", d.Config.BaseURL, err)
			if !ok {
				c = failed("session_usable", StatusFail, err)
			}
			add(c)
		} else {
			tok, _ := d.Source.Token(ctx)
			add(Check{Name: "session_usable", Status: StatusPass,
				Message: fmt.Sprintf("Logged in as %s (%s); access token expires %s", info.Email, info.UserID, describeExpiry(tok.Expiry))})
			if s, err := d.Source.Session(ctx); err == nil {
				sess = s
			}
		}
		add(clockCheck(sess))
		add(persistCheck(d))
	}
	if d.Clients.Home != "" {
		add(clientsCheck(d.Clients))
	}

	if sess != nil || d.Config.PlatformAPIKey != "" {
		if _, err := platformCall(ctx, d, http.MethodGet, "/v1/platform/applications", nil); err != nil {
			c, ok := reachCheck("platform_api", "the Clerk Platform API", "CLERK_PLATFORM_API_URL", d.Config.PlatformAPIURL, err)
			if !ok {
				c = failed("platform_api", StatusFail, err)
			}
			add(c)
		} else {
			add(Check{Name: "platform_api", Status: StatusPass, Message: "The Platform API at " + d.Config.PlatformAPIURL + " answers."})
		}
	} else {
		add(Check{Name: "platform_api", Status: StatusWarn, Message: "Skipped: no session or Platform API key to call it with.",
			Remedy: "Run `" + d.Config.LoginCommand() + "`."})
	}

	switch k := d.Config.SecretKey; {
	case k == "":
		add(Check{Name: "secret_key", Status: StatusPass, Message: "CLERK_SECRET_KEY is not set; backend calls resolve an instance's key from application_id."})
	case secretKeyFormat().MatchString(k):
		add(Check{Name: "secret_key", Status: StatusPass, Message: "CLERK_SECRET_KEY looks like a " + k[3:7] + " secret key."})
	default:
		add(Check{Name: "secret_key", Status: StatusFail, Message: "CLERK_SECRET_KEY does not look like a Clerk secret key (sk_live_... or sk_test_...).",
			Remedy: "Copy the secret key from the Clerk dashboard (API keys) into CLERK_SECRET_KEY."})
	}

	r.OK = true
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			r.OK = false
		}
	}
	return r
}

// persistCheck reports a refreshed session that only this process holds
// because the store refused it: a restart now would lose the login.
func persistCheck(d Deps) Check {
	err := d.Source.PendingWrite()
	if err == nil {
		return Check{Name: "session_saved", Status: StatusPass, Message: "The session in use is saved in " + d.Store.Location() + "."}
	}
	return Check{Name: "session_saved", Status: StatusFail,
		Message: fmt.Sprintf("The refreshed session could not be saved to %s (%v); it is held in memory and the write is retried on every call.", d.Store.Location(), err),
		Remedy:  "Make " + d.Config.ConfigDir + " writable (permissions, free disk space) without restarting this server; a restart before the write succeeds loses the session and needs `clerk-mcp login`."}
}

// clientsCheck says which MCP clients' user configs run clerk-mcp, and
// flags entries whose command no longer exists (a moved or deleted binary).
func clientsCheck(env clients.Env) Check {
	var installed, broken, unreadable []string
	var fix []string
	for _, c := range clients.All() {
		e, err := c.Status(env)
		switch {
		case err != nil:
			unreadable = append(unreadable, fmt.Sprintf("%s (%v)", c.Title, err))
		case e == nil:
		case !commandExists(e.Command):
			broken = append(broken, fmt.Sprintf("%s runs %s, which does not exist", c.Title, e.Command))
			fix = append(fix, "`clerk-mcp install --client "+c.Name+"`")
		default:
			installed = append(installed, c.Title)
		}
	}
	ok := ""
	if len(installed) > 0 {
		ok = "Installed in " + strings.Join(installed, ", ") + ". "
	}
	switch {
	case len(broken) > 0:
		return Check{Name: "clients", Status: StatusWarn,
			Message: ok + strings.Join(broken, "; ") + ".",
			Remedy:  "Run " + strings.Join(fix, " and ") + " from the clerk-mcp binary you want them to use."}
	case len(unreadable) > 0:
		return Check{Name: "clients", Status: StatusWarn,
			Message: ok + "Could not read the MCP config of " + strings.Join(unreadable, "; ") + ".",
			Remedy:  "Fix the file named above; clerk-mcp install leaves malformed files untouched."}
	case len(installed) == 0:
		return Check{Name: "clients", Status: StatusWarn,
			Message: "No supported client's user config runs clerk-mcp (project-level configs are not checked).",
			Remedy:  "Run `clerk-mcp install --client NAME` (" + strings.Join(clients.Names(), ", ") + ")."}
	}
	return Check{Name: "clients", Status: StatusPass, Message: "Installed in " + strings.Join(installed, ", ") + "."}
}

func commandExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

func storeCheck(st *store.Store) Check {
	c := Check{Name: "store", Status: StatusPass}
	usable, why := st.KeyringStatus()
	switch {
	case st.Mode() == store.ModeKeyring && !usable:
		return Check{Name: "store", Status: StatusFail, Message: "CLERK_MCP_STORE=keyring but the keyring is unavailable: " + why,
			Remedy: "Unlock or start the OS keyring, or set CLERK_MCP_STORE=file."}
	case usable:
		c.Message = "Keyring in use (" + st.Location() + ")"
	default:
		c.Message = "File store (" + why + "): " + st.File().Path()
	}
	if f := st.File(); f != nil && runtime.GOOS != "windows" {
		if info, err := os.Lstat(f.Path()); err == nil {
			if perm := info.Mode().Perm(); perm&0o077 != 0 {
				return Check{Name: "store", Status: StatusFail,
					Message: fmt.Sprintf("Session file %s has mode %o; other users can read it.", f.Path(), perm),
					Remedy:  fmt.Sprintf("Run `chmod 600 %s`.", f.Path())}
			}
		}
		dir := filepath.Dir(f.Path())
		if info, err := os.Stat(dir); err == nil && info.Mode().Perm()&0o077 != 0 {
			c.Status = StatusWarn
			c.Message += fmt.Sprintf("; config directory %s has mode %o", dir, info.Mode().Perm())
			c.Remedy = fmt.Sprintf("Run `chmod 700 %s`.", dir)
		}
	}
	return c
}

// clockCheck compares when we received the token with the issuer's iat.
func clockCheck(sess *store.Session) Check {
	claims, ok := auth.ParseJWTClaims(sess.AccessToken)
	if !ok || claims.IssuedAt.IsZero() || sess.ObtainedAt.IsZero() {
		return Check{Name: "clock_skew", Status: StatusPass, Message: "Not measurable: the access token carries no iat claim."}
	}
	skew := sess.ObtainedAt.Sub(claims.IssuedAt).Round(time.Second)
	if skew > maxClockSkew || skew < -maxClockSkew {
		direction := "ahead of"
		if skew < 0 {
			skew, direction = -skew, "behind"
		}
		skew = skew.Round(time.Minute) // iat has whole seconds; minutes read better
		return Check{Name: "clock_skew", Status: StatusWarn,
			Message: fmt.Sprintf("The local clock is about %s %s Clerk's. Token lifetimes are counted on the local clock, so refresh still works.", skew, direction),
			Remedy:  "Enable time synchronization (NTP); times shown to you may be off."}
	}
	return Check{Name: "clock_skew", Status: StatusPass, Message: fmt.Sprintf("Local clock within %s of Clerk's.", maxClockSkew)}
}

func describeExpiry(t time.Time) string {
	if t.IsZero() {
		return "at an unknown time"
	}
	return "at " + t.UTC().Format(time.RFC3339)
}
