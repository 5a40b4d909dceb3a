package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// profileListing is one line of `profiles --json`.
type profileListing struct {
	Profile   string `json:"profile"`
	Issuer    string `json:"issuer"`
	ClientID  string `json:"client_id"`
	User      string `json:"user,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
	Backend   string `json:"backend,omitempty"`
	Store     string `json:"store"`
	Error     string `json:"error,omitempty"`
	// Current marks the session this environment (and --profile) selects.
	Current bool `json:"current"`
}

// profiles lists every session stored in the config directory, whatever
// its issuer or profile, so that a user can see which one an editor's
// environment would pick up.
func (c *cli) profiles(ctx context.Context, args []string) int {
	fs := c.flags("profiles")
	asJSON := fs.Bool("json", false, "print JSON")
	c.profileFlag(fs) // marks which session is current; all are listed
	e, code, ok := c.parseEnv(fs, args, asJSON)
	if !ok {
		return code
	}
	listed, err := store.List(ctx, store.Options{Dir: e.cfg.ConfigDir, Mode: e.cfg.StoreMode})
	if err != nil {
		return c.fail(*asJSON, err)
	}
	out := make([]profileListing, 0, len(listed))
	for _, l := range listed {
		p := profileListing{Profile: l.Profile, Issuer: l.Issuer, ClientID: l.ClientID, User: l.User,
			ExpiresAt: timestamp(l.Expiry), Backend: l.Backend, Store: l.Location,
			Current: l.Profile == e.cfg.ProfileName() && l.Issuer == e.cfg.BaseURL && l.ClientID == e.cfg.ClientID}
		if l.Err != nil {
			p.Error = safetext.Clean(l.Err.Error())
		}
		out = append(out, p)
	}
	if *asJSON {
		c.printJSON(out)
		return exitOK
	}
	if len(out) == 0 {
		fmt.Fprintf(c.stdout, "No sessions stored in %s. Run `clerk-mcp login` (with --profile NAME for a named one).\n", e.cfg.ConfigDir)
		return exitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PROFILE\tISSUER\tUSER\tEXPIRES\tSTORE")
	for _, p := range out {
		mark, expires := " ", p.ExpiresAt
		if p.Current {
			mark = "*"
		}
		if expires == "" {
			expires = "-"
		}
		where := p.Store
		if p.Error != "" {
			where = "unreadable: " + p.Error
		}
		user := p.User
		if user == "" {
			user = "-"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\n", mark, p.Profile, safetext.Clean(p.Issuer), safetext.Clean(user), expires, where)
	}
	tw.Flush()
	fmt.Fprintln(c.stdout, "\n* the session this environment uses; --profile NAME or CLERK_PROFILE picks another.")
	return exitOK
}
