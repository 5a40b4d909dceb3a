package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func init() { testRoles["hang-secrets"] = hangSecretService }

// hangSecretService owns org.freedesktop.secrets on the session bus and
// accepts every method call without ever answering it: a Secret Service
// provider that is stuck, the case go-keyring would wait on forever.
func hangSecretService() {
	conn, err := dbus.Connect(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), dbus.WithHandler(stuck{}))
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	reply, err := conn.RequestName("org.freedesktop.secrets", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		fmt.Fprintln(os.Stderr, "request name:", reply, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	select {}
}

// stuck is every object, interface and method at once; calls never return.
type stuck struct{}

func (stuck) LookupObject(dbus.ObjectPath) (dbus.ServerObject, bool) { return stuck{}, true }
func (stuck) LookupInterface(string) (dbus.Interface, bool)          { return stuck{}, true }
func (stuck) LookupMethod(string) (dbus.Method, bool)                { return stuck{}, true }
func (stuck) Call(...any) ([]any, error)                             { select {} }
func (stuck) NumArguments() int                                      { return 0 }
func (stuck) NumReturns() int                                        { return 0 }
func (stuck) ArgumentValue(int) any                                  { return nil }
func (stuck) ReturnValue(int) any                                    { return nil }
func (stuck) DecodeArguments(*dbus.Conn, string, *dbus.Message, []any) ([]any, error) {
	return nil, nil
}

// privateBusWithStuckKeyring starts a private session bus whose Secret
// Service never answers and returns its address.
func privateBusWithStuckKeyring(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		if os.Getenv("CLERK_MCP_REQUIRE_KEYRING") != "" {
			t.Fatal("dbus-daemon is missing")
		}
		t.Skip("dbus-daemon missing: apt-get install dbus")
	}
	daemon := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := daemon.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon address: %v", err)
	}
	addr = strings.TrimSpace(addr)

	self, _ := os.Executable()
	svc := exec.Command(self)
	svc.Env = append(os.Environ(), "CLERK_MCP_TEST_ROLE=hang-secrets", "DBUS_SESSION_BUS_ADDRESS="+addr)
	svc.Stderr = os.Stderr
	ready, _ := svc.StdoutPipe()
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Process.Kill(); svc.Wait() })
	if line, err := bufio.NewReader(ready).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("stuck Secret Service did not start: %q %v", line, err)
	}
	return addr
}

// A keyring that hangs: tool calls and commands fall back to the file store
// within the keyring timeout (3 s), and the whole call stays under the
// timeout plus a second.
func TestStuckKeyringFallsBackToFile(t *testing.T) {
	addr := privateBusWithStuckKeyring(t)
	w := newWorld(t)
	w.login(t, time.Now().Add(-time.Minute)) // in the file; expired, so the call refreshes and saves
	for i, kv := range w.env {
		if strings.HasPrefix(kv, "CLERK_MCP_STORE=") {
			w.env[i] = "CLERK_MCP_STORE=auto"
		}
	}
	w.env = append(w.env, "DBUS_SESSION_BUS_ADDRESS="+addr)
	const limit = 3*time.Second + time.Second

	start := time.Now()
	out, errOut, code := w.run(t, nil, "whoami", "--json")
	if d := time.Since(start); code != 0 || d > limit {
		t.Fatalf("whoami --json with a stuck keyring: exit %d after %s (limit %s)\n%s%s", code, d, limit, out, errOut)
	}

	cs := w.connect(t)
	for i := range 3 {
		start := time.Now()
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
		d := time.Since(start)
		if err != nil || res.IsError {
			t.Fatalf("whoami call %d with a stuck keyring: %v %+v", i, err, res)
		}
		if d > limit {
			t.Fatalf("whoami call %d took %s, want under %s", i, d, limit)
		}
		if i > 0 && d > time.Second {
			t.Fatalf("call %d waited on the keyring again (%s); a stuck keyring is left alone for a while", i, d)
		}
		t.Logf("call %d: %s", i, d.Round(time.Millisecond))
	}
	// doctor says what is going on.
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "doctor"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(res.StructuredContent)
	if !strings.Contains(string(raw), "keyring") {
		t.Fatalf("doctor does not mention the keyring: %s", raw)
	}
	if c := w.fake.Counts(); c.Refreshes != 1 || c.InvalidGrants != 0 {
		t.Fatalf("refreshes=%d invalid_grant=%d, want 1 and 0", c.Refreshes, c.InvalidGrants)
	}
}
