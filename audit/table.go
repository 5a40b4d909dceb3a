package audit

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
)

// WriteTable writes entries as the table `clerk-mcp audit` shows, one row
// each. Every field may come from an MCP client or a hand-edited file, so
// each is cleaned for a terminal.
func WriteTable(w io.Writer, entries []Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tPROFILE\tCLIENT\tREQUEST\tAPP/INSTANCE\tSTATUS\tOUTCOME\tMS")
	for _, e := range entries {
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
			cell(e.Profile), cell(strings.TrimSpace(e.Client+" "+e.ClientVersion)), cell(e.Method), cell(e.Target),
			cell(e.Path), cell(strings.Trim(e.ApplicationID+"/"+e.Instance, "/")), status, cell(outcome), e.DurationMS)
	}
	return tw.Flush()
}

// cell is s for a terminal, "-" when empty.
func cell(s string) string {
	if s = safetext.Clean(s); s == "" {
		return "-"
	}
	return s
}
