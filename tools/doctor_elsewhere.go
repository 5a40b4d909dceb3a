package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/store"
)

// maxElsewhere bounds how many other sessions doctor names.
const maxElsewhere = 3

// sessionMissing is the failed session_present check. When the config
// directory holds sessions for another issuer, client or profile, it
// names them and the settings that select them: an editor often starts
// clerk-mcp with another environment than the shell the user logged in
// from, and "not logged in" then hides a session that exists.
func sessionMissing(ctx context.Context, d Deps, err error) Check {
	c := failed("session_present", StatusFail, err)
	listed, lerr := store.List(ctx, store.Options{Dir: d.Config.ConfigDir, Mode: d.Config.StoreMode})
	if lerr != nil {
		return c
	}
	var found, fixes []string
	for _, l := range listed {
		if l.Err != nil || (l.Issuer == d.Config.BaseURL && l.ClientID == d.Config.ClientID && l.Profile == d.Config.ProfileName()) {
			continue
		}
		if len(found) == maxElsewhere {
			found = append(found, "…")
			break
		}
		found = append(found, fmt.Sprintf("profile %q on %s", l.Profile, l.Issuer))
		fixes = append(fixes, selectSession(d, l))
	}
	if len(found) == 0 {
		return c
	}
	c.Message += " Sessions exist in " + d.Config.ConfigDir + " for " + strings.Join(found, ", ") +
		"; this environment selects profile " + fmt.Sprintf("%q", d.Config.ProfileName()) + " on " + d.Config.BaseURL + "."
	c.Remedy = "To use an existing session, start clerk-mcp with " + strings.Join(fixes, ", or ") +
		" (in the editor's entry: args or env). Or " + lowerFirst(c.Remedy)
	return c
}

// selectSession names the settings that differ between d's configuration
// and l, as a user would set them.
func selectSession(d Deps, l store.Listing) string {
	var set []string
	if l.Issuer != d.Config.BaseURL {
		set = append(set, "CLERK_OAUTH_BASE_URL="+l.Issuer)
	}
	if l.ClientID != d.Config.ClientID {
		set = append(set, "CLERK_OAUTH_CLIENT_ID="+l.ClientID)
	}
	if l.Profile != d.Config.ProfileName() {
		set = append(set, "--profile "+l.Profile+" (or CLERK_PROFILE="+l.Profile+")")
	}
	return strings.Join(set, " and ")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
