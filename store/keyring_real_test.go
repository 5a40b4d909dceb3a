package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/store"
)

// TestRealKeyring runs against the OS keyring: the Secret Service under
// dbus-run-session in CI (see .ci/run), the Keychain or Credential Manager
// elsewhere. Where none is reachable it skips and says why.
func TestRealKeyring(t *testing.T) {
	if runtime.GOOS == "linux" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("no D-Bus session bus: run under dbus-run-session with gnome-keyring unlocked (see .ci/run)")
	}
	account := fmt.Sprintf("test-%d-%d", os.Getpid(), time.Now().UnixNano())
	kr := store.NewKeyring(store.SystemKeyring{}, account, 5*time.Second)
	ctx := context.Background()
	if _, err := kr.Load(ctx); errors.Is(err, store.ErrUnavailable) {
		if os.Getenv("CLERK_MCP_REQUIRE_KEYRING") != "" {
			t.Fatalf("keyring required but unavailable: %v", err)
		}
		t.Skipf("no usable Secret Service: %v", err)
	} else if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Load of a missing entry: %v, want ErrNotFound", err)
	}
	t.Cleanup(func() { kr.Delete(context.Background()) })
	want := session("real-keyring")
	if err := kr.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := kr.Load(ctx)
	if err != nil || got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	if err := kr.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Load(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Load after Delete: %v", err)
	}
}
