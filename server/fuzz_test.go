package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/server"
	"github.com/clerk-mcp/clerk-mcp/store"
	"github.com/clerk-mcp/clerk-mcp/tools"
)

// FuzzStdioLine sends an arbitrary line between an initialize and a ping
// through the stdio transport. Every line the server writes must be a
// JSON-RPC 2.0 message, and it must still answer the ping afterwards.
func FuzzStdioLine(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"api","arguments":{"path":"//evil.example/x"}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"api","arguments":"not an object"}}`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"nope"}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}`,
		`{"jsonrpc":"2.0","id":null,"method":"ping"}`,
		`{"jsonrpc":"1.0","id":7,"method":"ping"}`,
		`[{"jsonrpc":"2.0","id":8,"method":"ping"}]`,
		`{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`,
		`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"whoami","arguments":{"x":1}}}`,
		"not json",
		`{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"api","arguments":{"method":"DELETE","path":"/users/\u0000"}}}`,
		"",
	} {
		f.Add(seed)
	}
	cfg := auth.Config{BaseURL: "http://127.0.0.1:1", ClientID: "c", PlatformAPIURL: "http://127.0.0.1:1",
		BackendAPIURL: "http://127.0.0.1:1", ConfigDir: filepath.Join(f.TempDir(), "clerk-mcp"), StoreMode: store.ModeFile}
	deps, _, err := tools.NewDeps(cfg, auth.SourceOptions{})
	if err != nil {
		f.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	f.Fuzz(func(t *testing.T, line string) {
		srv := server.New(server.Options{Tools: tools.All(deps), Logger: logger, Version: "fuzz"})
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			server.ServeStdio(ctx, srv, inR, outW, logger)
			outW.Close()
			close(done)
		}()
		defer func() {
			cancel()
			inW.Close()
			go io.Copy(io.Discard, outR)
			<-done
		}()
		go func() {
			io.WriteString(inW, `{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}}`+"\n")
			io.WriteString(inW, line+"\n")
			io.WriteString(inW, `{"jsonrpc":"2.0","id":"final-ping","method":"ping"}`+"\n")
		}()

		lines := make(chan []byte)
		go func() {
			sc := bufio.NewScanner(outR)
			sc.Buffer(nil, 4<<20)
			for sc.Scan() {
				lines <- bytes.Clone(sc.Bytes())
			}
			close(lines)
		}()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case out, ok := <-lines:
				if !ok {
					t.Fatal("the server closed stdout before answering the final ping")
				}
				var msg struct {
					JSONRPC string          `json:"jsonrpc"`
					ID      json.RawMessage `json:"id"`
				}
				if err := json.Unmarshal(out, &msg); err != nil || msg.JSONRPC != "2.0" {
					t.Fatalf("stdout line is not a JSON-RPC 2.0 message: %q", out)
				}
				if strings.Contains(string(msg.ID), "final-ping") {
					return
				}
			case <-timeout:
				t.Fatal("no answer to the ping after the fuzz line: the server stopped reading")
			}
		}
	})
}
