package main

import (
	"context"
	"fmt"
)

func (c *cli) serve(ctx context.Context, args []string) int {
	fmt.Fprintln(c.stderr, "clerk-mcp: serve is not built yet")
	return exitFailure
}
