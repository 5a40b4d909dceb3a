package fakeclerk_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/spectest"
)

// POST /v1/users and DELETE /v1/users/{user_id} answer as Clerk's Backend
// spec says (User, DeletedObject, ClerkErrors on 404), and the spec
// checker sees every one of them.
func TestUserWritesFollowBackendSpec(t *testing.T) {
	fake := fakeclerk.New(t)
	checker := spectest.Attach(t, fake)
	key := fake.SecretKey("development")
	do := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, fake.URL+path, rd)
		req.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		data, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
		return resp.StatusCode, v
	}
	status, user := do(http.MethodPost, "/v1/users", `{"first_name":"Grace","last_name":"Hopper","email_address":["grace@example.com"]}`)
	id, _ := user["id"].(string)
	if status != http.StatusOK || id == "" || user["first_name"] != "Grace" {
		t.Fatalf("create: %d %v", status, user)
	}
	if status, del := do(http.MethodDelete, "/v1/users/"+id, ""); status != http.StatusOK || del["deleted"] != true || del["id"] != id {
		t.Fatalf("delete: %d %v", status, del)
	}
	if status, _ := do(http.MethodDelete, "/v1/users/"+id, ""); status != http.StatusNotFound {
		t.Fatalf("second delete: %d, want 404", status)
	}
	if status, _ := do(http.MethodDelete, "/v1/users/"+fakeclerk.ListedUser(7).ID, ""); status != http.StatusOK {
		t.Fatalf("delete of a listed user: %d", status)
	}
	if c := fake.Counts(); c.CreatedUsers != 1 || c.DeletedUsers != 2 {
		t.Fatalf("counts: %+v", c)
	}
	if n := checker.Checked(); n != 4 {
		t.Fatalf("spec checker saw %d answers, want 4", n)
	}
}
