package fakeclerk_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/spectest"
)

// GET /v1/users pages through fakeclerk.UserCount users with Clerk's limit
// (default 10, up to 500) and offset, newest first, and every page is a
// list of spec-valid User objects.
func TestUserListPagesFollowBackendSpec(t *testing.T) {
	fake := fakeclerk.New(t)
	checker := spectest.Attach(t, fake)
	key := fake.SecretKey("development")
	list := func(query string) []map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, fake.URL+"/v1/users"+query, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var users []map[string]any
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &users) != nil {
			t.Fatalf("GET /v1/users%s: %d %.200s", query, resp.StatusCode, body)
		}
		return users
	}
	cases := []struct {
		query       string
		n, firstIdx int
	}{
		{"", 10, 0},
		{"?limit=1", 1, 0},
		{"?limit=100", 100, 0},
		{"?limit=500", 500, 0},
		{"?limit=10&offset=495", 5, 495},
		{"?offset=600", 0, 0},
	}
	for _, tc := range cases {
		users := list(tc.query)
		if len(users) != tc.n {
			t.Fatalf("GET /v1/users%s: %d users, want %d", tc.query, len(users), tc.n)
		}
		seen := map[string]bool{}
		var last float64
		for i, u := range users {
			id, _ := u["id"].(string)
			if want := fakeclerk.ListedUser(tc.firstIdx + i).ID; id != want {
				t.Fatalf("GET /v1/users%s: user %d is %s, want %s", tc.query, i, id, want)
			}
			if seen[id] {
				t.Fatalf("GET /v1/users%s: %s listed twice", tc.query, id)
			}
			seen[id] = true
			created, _ := u["created_at"].(float64)
			if i > 0 && created > last {
				t.Fatalf("GET /v1/users%s: not newest first at %d", tc.query, i)
			}
			last = created
		}
	}
	if users := list(""); users[0]["id"] != fakeclerk.DefaultUser.ID {
		t.Fatalf("the first user is %v, want %s", users[0]["id"], fakeclerk.DefaultUser.ID)
	}
	if n := checker.Checked(); n != len(cases)+1 {
		t.Fatalf("spec checker saw %d answers, want %d", n, len(cases)+1)
	}
}

// Generated users have distinct emails, which projections in tests and
// benchmarks rely on.
func TestListedUsersAreDistinct(t *testing.T) {
	emails := map[string]int{}
	for i := range fakeclerk.UserCount {
		u := fakeclerk.ListedUser(i)
		if j, dup := emails[u.Email]; dup {
			t.Fatalf("users %d and %d share %s", j, i, u.Email)
		}
		emails[u.Email] = i
	}
}
