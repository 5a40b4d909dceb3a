package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/tools"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// loginResult is `login --json`.
type loginResult struct {
	UserID  string   `json:"user_id,omitempty"`
	Email   string   `json:"email,omitempty"`
	Name    string   `json:"name,omitempty"`
	Issuer  string   `json:"issuer"`
	Profile string   `json:"profile"`
	Store   string   `json:"store"`
	Warn    []string `json:"warnings,omitempty"`
}

func (c *cli) login(ctx context.Context, args []string) int {
	fs := c.flags("login")
	noBrowser := fs.Bool("no-browser", false, "print the URL instead of opening a browser, and accept the redirected URL pasted on stdin (for SSH)")
	device := fs.Bool("device", false, "log in with a code shown here and entered in any browser (OAuth device flow), where the server offers it")
	timeout := fs.Duration("timeout", auth.DefaultLoginTimeout, "how long to wait for the browser")
	asJSON := fs.Bool("json", false, "print the result as JSON on stdout")
	c.profileFlag(fs)
	e, code, ok := c.parseEnv(fs, args, asJSON)
	if !ok {
		return code
	}
	opts := auth.LoginOptions{NoBrowser: *noBrowser, Timeout: *timeout, Out: c.stderr, Live: isTerminal(c.stderr)}
	if *noBrowser {
		opts.Paste = c.stdin
	}
	login := auth.Login
	if *device {
		login = auth.LoginDevice
	}
	res, err := login(ctx, e.client, e.source.Store(), opts)
	if err != nil {
		return c.fail(*asJSON, loginError(err, e.cfg, *device))
	}
	out := loginResult{Issuer: e.cfg.BaseURL, Profile: e.cfg.ProfileName(), Store: res.Location, Warn: res.Warnings}
	if res.User != nil {
		out.UserID, out.Email, out.Name = res.User.UserID, res.User.Email, res.User.Name
	}
	if *asJSON {
		c.printJSON(out)
		return exitOK
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(c.stderr, "warning: %s\n", safetext.Clean(w))
	}
	who := "Logged in to " + e.cfg.BaseURL
	if res.User != nil {
		who += " as " + describeUser(res.User)
	}
	who += profileNote(e.cfg)
	fmt.Fprintf(c.stdout, "%s\nSession stored in %s; it refreshes itself from now on.\n", who, res.Location)
	return exitOK
}

// loginError presents a failed login in the error vocabulary: the message
// says what went wrong, the remedy what to do, once each.
func loginError(err error, cfg auth.Config, device bool) error {
	var ae *envelope.Error
	if errors.As(err, &ae) {
		return err
	}
	remedy := "Run `" + cfg.LoginCommand() + "` again; over SSH add --no-browser and open the URL on any machine, or use --device where Clerk offers it."
	if device {
		remedy = "Run `" + cfg.LoginCommand() + " --device` again, or log in without --device."
	}
	return &envelope.Error{Reason: envelope.ReasonNotLoggedIn, Message: safetext.Clean(err.Error()),
		Remedy: remedy, Err: err}
}

// profileNote names a profile other than the default, for messages that
// say which session they are about.
func profileNote(cfg auth.Config) string {
	if p := cfg.ProfileName(); p != store.DefaultProfile {
		return fmt.Sprintf(" (profile %q)", p)
	}
	return ""
}

func (c *cli) logout(ctx context.Context, args []string) int {
	fs := c.flags("logout")
	asJSON := fs.Bool("json", false, "print the result as JSON on stdout")
	c.profileFlag(fs)
	e, code, ok := c.parseEnv(fs, args, asJSON)
	if !ok {
		return code
	}
	res, err := auth.Logout(ctx, e.client, e.source.Store())
	if err != nil {
		return c.fail(*asJSON, err)
	}
	if *asJSON {
		out := struct {
			LoggedOut bool   `json:"logged_out"`
			Revoked   bool   `json:"revoked"`
			Issuer    string `json:"issuer"`
			Profile   string `json:"profile"`
			Store     string `json:"store"`
			Warning   string `json:"warning,omitempty"`
		}{res.HadSession, res.HadSession && res.RevokeErr == nil, e.cfg.BaseURL, e.cfg.ProfileName(), res.Location, ""}
		if res.RevokeErr != nil {
			out.Warning = "could not revoke the session at Clerk: " + safetext.Clean(res.RevokeErr.Error())
		}
		c.printJSON(out)
		return exitOK
	}
	if !res.HadSession {
		fmt.Fprintf(c.stdout, "Not logged in to %s%s; nothing to do.\n", e.cfg.BaseURL, profileNote(e.cfg))
		return exitOK
	}
	if res.RevokeErr != nil {
		fmt.Fprintf(c.stderr, "warning: could not revoke the session at Clerk (%s); it was deleted here and expires at Clerk on its own.\n", safetext.Clean(res.RevokeErr.Error()))
	}
	fmt.Fprintf(c.stdout, "Logged out of %s%s; removed the session from %s.\n", e.cfg.BaseURL, profileNote(e.cfg), res.Location)
	return exitOK
}

// whoamiResult is `whoami --json`: the whoami tool's answer, and where
// the session is stored.
type whoamiResult struct {
	tools.WhoamiResult
	Store string `json:"store,omitempty"`
}

// timestamp formats t for JSON output as the tools do: RFC 3339 in UTC,
// whole seconds; "" for an unknown time.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

func (c *cli) whoami(ctx context.Context, args []string) int {
	fs := c.flags("whoami")
	asJSON := fs.Bool("json", false, "print JSON")
	c.profileFlag(fs)
	e, code, ok := c.parseEnv(fs, args, asJSON)
	if !ok {
		return code
	}
	who, err := tools.Whoami(ctx, e.deps())
	if err != nil {
		return c.fail(*asJSON, err)
	}
	res := whoamiResult{WhoamiResult: *who}
	if who.Auth == "oauth" {
		res.Store = e.source.Store().Location()
	}
	if *asJSON {
		c.printJSON(res)
		return exitOK
	}
	if who.Auth != "oauth" {
		fmt.Fprintf(c.stdout, "Using the Platform API key in CLERK_PLATFORM_API_KEY for %s.\n", safetext.Clean(who.Issuer))
		if _, err := e.source.Session(ctx); err == nil {
			fmt.Fprintf(c.stdout, "  A session is stored for %s (%s) but not used while the key is set.\n", e.cfg.BaseURL, e.source.Store().Location())
		}
		return exitOK
	}
	expires := "no expiry given"
	if t, err := time.Parse(time.RFC3339, who.ExpiresAt); err == nil {
		expires = until(t)
	}
	fmt.Fprintf(c.stdout, "Logged in to %s as %s\n", who.Issuer, describeUser(&auth.UserInfo{UserID: who.UserID, Email: who.Email, Name: who.Name}))
	fmt.Fprintf(c.stdout, "  auth:     %s\n  profile:  %s\n  expires:  %s\n  session:  %s\n",
		who.Auth, who.Profile, expires, res.Store)
	return exitOK
}

func (c *cli) refresh(ctx context.Context, args []string) int {
	fs := c.flags("refresh")
	asJSON := fs.Bool("json", false, "print JSON")
	c.profileFlag(fs)
	e, code, ok := c.parseEnv(fs, args, asJSON)
	if !ok {
		return code
	}
	sess, err := e.source.Session(ctx)
	if err != nil {
		return c.fail(*asJSON, err)
	}
	tok, err := e.source.Refresh(ctx, sess.AccessToken)
	if err != nil {
		return c.fail(*asJSON, err)
	}
	if *asJSON {
		c.printJSON(struct {
			ExpiresAt string `json:"expires_at,omitempty"`
			Issuer    string `json:"issuer"`
			Profile   string `json:"profile"`
			Store     string `json:"store"`
		}{timestamp(tok.Expiry), e.cfg.BaseURL, e.cfg.ProfileName(), e.source.Store().Location()})
		return exitOK
	}
	fmt.Fprintf(c.stdout, "Refreshed the session for %s%s; the access token expires %s.\n", e.cfg.BaseURL, profileNote(e.cfg), until(tok.Expiry))
	return exitOK
}

// describeUser names u for a terminal. The fields are Clerk's words;
// auth cleans them already, and cleaning again here keeps this printing
// safe whatever built u.
func describeUser(u *auth.UserInfo) string {
	name, email, id := safetext.Clean(u.Name), safetext.Clean(u.Email), safetext.Clean(u.UserID)
	switch {
	case name != "" && email != "":
		return fmt.Sprintf("%s <%s> (%s)", name, email, id)
	case email != "":
		return fmt.Sprintf("%s (%s)", email, id)
	}
	return id
}

// configError presents a configuration problem in the error vocabulary.
func configError(err error) error {
	return &envelope.Error{
		Reason:  envelope.ReasonInvalidInput,
		Message: err.Error(),
		Remedy:  "Fix the environment variable named above (see the README's configuration table).",
		Err:     err,
	}
}
