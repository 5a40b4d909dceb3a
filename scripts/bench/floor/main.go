// Command floor is the benchmark baseline: the smallest mcp-go stdio server
// with one tool that does a bare GET /oauth/userinfo with a fixed token
// (FLOOR_BASE_URL, FLOOR_TOKEN). clerk-mcp is measured against it.
package main

import (
	"context"
	"io"
	"net/http"
	"os"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

func main() {
	s := server.NewMCPServer("floor", "1")
	client := &http.Client{}
	s.AddTool(mcp.NewTool("whoami"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", os.Getenv("FLOOR_BASE_URL")+"/oauth/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+os.Getenv("FLOOR_TOKEN"))
		resp, err := client.Do(req)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return mcp.NewToolResultText(string(body)), nil
	})
	server.ServeStdio(s)
}
