package main

import (
	"context"
	"fmt"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/clerk-mcp/clerk-mcp/auth"
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
	audit.WriteTable(c.stdout, entries)
	return exitOK
}
