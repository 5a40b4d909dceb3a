package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
)

// auditCmd shows the most recent entries of the audit log: the writes
// agents made (or tried to make) through `serve`, oldest first.
func (c *cli) auditCmd(ctx context.Context, args []string) int {
	fs := c.flags("audit")
	asJSON := fs.Bool("json", false, "print JSON")
	limit := fs.Int("limit", 20, "show at most this many entries, the most recent (0: all)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if *limit < 0 {
		fmt.Fprintf(c.stderr, "clerk-mcp audit: --limit must be 0 or more\n")
		return exitUsage
	}
	cfg, err := auth.ConfigFromEnv(c.configEnv)
	if err != nil {
		return c.fail(*asJSON, configError(err))
	}
	log := audit.New(cfg.ConfigDir)
	entries, err := log.Recent(*limit)
	if err != nil {
		return c.fail(*asJSON, err)
	}
	if *asJSON {
		if entries == nil {
			entries = []audit.Entry{}
		}
		c.printJSON(entries)
		return exitOK
	}
	if len(entries) == 0 {
		fmt.Fprintf(c.stdout, "No api writes recorded in %s yet.\n", log.Path())
		return exitOK
	}
	// Every field may come from an MCP client or a hand-edited file:
	// cleaned before it reaches the terminal.
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tPROFILE\tCLIENT\tREQUEST\tAPP/INSTANCE\tSTATUS\tOUTCOME\tMS")
	for _, e := range entries {
		client := strings.TrimSpace(e.Client + " " + e.ClientVersion)
		where := strings.Trim(e.ApplicationID+"/"+e.Instance, "/")
		status := "-"
		if e.Status != 0 {
			status = strconv.Itoa(e.Status)
		}
		outcome := "allowed: " + e.Allowed
		if e.Refused != "" {
			outcome = "refused: " + e.Refused
		} else if e.Error != "" {
			outcome += " (" + e.Error + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s %s\t%s\t%s\t%s\t%d\n", e.Time.Local().Format("2006-01-02 15:04:05"),
			clean(e.Profile), clean(client), clean(e.Method), clean(e.Target), clean(e.Path), clean(where),
			status, clean(outcome), e.DurationMS)
	}
	tw.Flush()
	return exitOK
}

// clean is s for a terminal, "-" when empty.
func clean(s string) string {
	if s = safetext.Clean(s); s == "" {
		return "-"
	}
	return s
}
