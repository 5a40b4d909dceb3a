package server_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/server"
	"github.com/clerk-mcp/clerk-mcp/tools"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// maxListBytes bounds what a client puts in the model's context before
// the first call: the tools/list answer and the instructions.
const maxListBytes = 12 << 10

// The tool list and the instructions stay within 12 KB as the client
// receives them (compact JSON), under every flag that changes the
// descriptions.
func TestToolsListAndInstructionsFitBudget(t *testing.T) {
	for _, d := range []tools.Deps{{}, {ReadOnly: true}, {Confirm: tools.ConfirmWrites}, {Confirm: tools.ConfirmNever}} {
		srv := server.New(server.Options{Tools: tools.All(d), Version: "test"})
		c, err := client.NewInProcessClient(srv)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		init := mcp.InitializeRequest{}
		init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
		init.Params.ClientInfo = mcp.Implementation{Name: "size", Version: "1"}
		ir, err := c.Initialize(ctx, init)
		if err != nil {
			t.Fatal(err)
		}
		list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(list)
		total := len(data) + len(ir.Instructions)
		t.Logf("read-only %v, confirm %q: tools/list %d + instructions %d = %d bytes", d.ReadOnly, d.Confirm, len(data), len(ir.Instructions), total)
		if total > maxListBytes {
			t.Errorf("read-only %v, confirm %q: tools/list and instructions take %d bytes, over %d", d.ReadOnly, d.Confirm, total, maxListBytes)
		}
		c.Close()
	}
}
