package main

import (
	"fmt"
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether f is a terminal. A character-device test is
// not enough: /dev/null is one, and editors often give it as stdin.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// serveHint is what serve says on stderr when a person runs it in a
// terminal, where it would otherwise wait silently for JSON-RPC.
const serveHint = `clerk-mcp is an MCP server: it speaks JSON-RPC on stdin and stdout, and
editors start it for you. To add it to an editor, run
'clerk-mcp install --client NAME'; for the other commands, 'clerk-mcp help'.
Serving MCP on this terminal now (Ctrl-C to stop).
`

// hintIfTerminal prints serveHint to stderr when stdin is a terminal.
func (c *cli) hintIfTerminal() {
	if isTerminal(c.stdin) {
		fmt.Fprint(c.stderr, serveHint)
	}
}
