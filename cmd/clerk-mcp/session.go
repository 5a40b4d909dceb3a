package main

import (
	"context"
	"fmt"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
)

func (c *cli) login(ctx context.Context, args []string) int {
	fs := c.flags("login")
	noBrowser := fs.Bool("no-browser", false, "print the URL instead of opening a browser")
	timeout := fs.Duration("timeout", auth.DefaultLoginTimeout, "how long to wait for the browser")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	e, err := c.env()
	if err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp: %v\n", err)
		return exitFailure
	}
	res, err := auth.Login(ctx, e.client, e.source.Store(), auth.LoginOptions{
		NoBrowser: *noBrowser,
		Timeout:   *timeout,
		Out:       c.stderr,
	})
	if err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp: %v\n", err)
		return exitFailure
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(c.stderr, "warning: %s\n", w)
	}
	who := "Logged in to " + e.cfg.BaseURL
	if res.User != nil {
		who += " as " + describeUser(res.User)
	}
	fmt.Fprintf(c.stdout, "%s\nSession stored in %s; it refreshes itself from now on.\n", who, res.Location)
	return exitOK
}

func (c *cli) logout(ctx context.Context, args []string) int {
	if code, ok := c.parse(c.flags("logout"), args); !ok {
		return code
	}
	e, err := c.env()
	if err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp: %v\n", err)
		return exitFailure
	}
	res, err := auth.Logout(ctx, e.client, e.source.Store())
	if err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp: %v\n", err)
		return exitFailure
	}
	if !res.HadSession {
		fmt.Fprintf(c.stdout, "Not logged in to %s; nothing to do.\n", e.cfg.BaseURL)
		return exitOK
	}
	if res.RevokeErr != nil {
		fmt.Fprintf(c.stderr, "warning: could not revoke the session at Clerk (%v); it was deleted here and expires at Clerk on its own.\n", res.RevokeErr)
	}
	fmt.Fprintf(c.stdout, "Logged out of %s; removed the session from %s.\n", e.cfg.BaseURL, res.Location)
	return exitOK
}

// whoamiResult is `whoami --json`.
type whoamiResult struct {
	UserID    string    `json:"user_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Auth      string    `json:"auth"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Issuer    string    `json:"issuer"`
	Store     string    `json:"store"`
}

func (c *cli) whoami(ctx context.Context, args []string) int {
	fs := c.flags("whoami")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	e, err := c.env()
	if err != nil {
		return c.fail(*asJSON, configError(err))
	}
	info, err := e.source.UserInfo(ctx)
	if err != nil {
		return c.fail(*asJSON, err)
	}
	tok, err := e.source.Token(ctx)
	if err != nil {
		return c.fail(*asJSON, err)
	}
	res := whoamiResult{
		UserID: info.UserID, Email: info.Email, Name: info.Name, Auth: "oauth",
		ExpiresAt: tok.Expiry, Issuer: e.cfg.BaseURL, Store: e.source.Store().Location(),
	}
	if *asJSON {
		c.printJSON(res)
		return exitOK
	}
	fmt.Fprintf(c.stdout, "Logged in to %s as %s\n", res.Issuer, describeUser(info))
	fmt.Fprintf(c.stdout, "  auth:     %s\n  expires:  %s\n  session:  %s\n", res.Auth, until(res.ExpiresAt), res.Store)
	return exitOK
}

func (c *cli) refresh(ctx context.Context, args []string) int {
	fs := c.flags("refresh")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	e, err := c.env()
	if err != nil {
		return c.fail(*asJSON, configError(err))
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
			ExpiresAt time.Time `json:"expires_at,omitzero"`
			Issuer    string    `json:"issuer"`
			Store     string    `json:"store"`
		}{tok.Expiry, e.cfg.BaseURL, e.source.Store().Location()})
		return exitOK
	}
	fmt.Fprintf(c.stdout, "Refreshed the session for %s; the access token expires %s.\n", e.cfg.BaseURL, until(tok.Expiry))
	return exitOK
}

func describeUser(u *auth.UserInfo) string {
	switch {
	case u.Name != "" && u.Email != "":
		return fmt.Sprintf("%s <%s> (%s)", u.Name, u.Email, u.UserID)
	case u.Email != "":
		return fmt.Sprintf("%s (%s)", u.Email, u.UserID)
	}
	return u.UserID
}

// configError presents a configuration problem in the error vocabulary.
func configError(err error) error {
	return &auth.AuthError{
		Reason:  auth.ReasonInvalidInput,
		Message: err.Error(),
		Remedy:  "Fix the environment variable named above (see the README's configuration table).",
		Err:     err,
	}
}
