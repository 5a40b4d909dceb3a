package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/store"
)

// FuzzSessionFile loads arbitrary bytes from a session file. The answer is
// a session that saves and loads back unchanged, or a CorruptError naming
// the file; never a panic, never a session without an access token.
func FuzzSessionFile(f *testing.F) {
	f.Add([]byte(`{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expiry":"2030-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"access_token":"at","expiry":"not a time"}`))
	f.Add([]byte(`{"access_token":""}`))
	f.Add([]byte(`{"access_token":"at"`))
	f.Add([]byte("\x00\xff\xfe"))
	f.Add([]byte(`null`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "session.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		file := store.NewFile(path)
		s, err := file.Load(context.Background())
		if err != nil {
			var corrupt *store.CorruptError
			if !errors.As(err, &corrupt) || corrupt.Location != path {
				t.Fatalf("error %v (%T) does not name the corrupt file", err, err)
			}
			return
		}
		if s.AccessToken == "" {
			t.Fatal("loaded a session without an access token")
		}
		if err := file.Save(context.Background(), s); err != nil {
			t.Fatalf("a loaded session does not save: %v", err)
		}
		back, err := file.Load(context.Background())
		if err != nil || back.AccessToken != s.AccessToken || back.RefreshToken != s.RefreshToken || !back.Expiry.Equal(s.Expiry) {
			t.Fatalf("round trip changed the session: %+v -> %+v (%v)", s, back, err)
		}
	})
}
