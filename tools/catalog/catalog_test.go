package catalog_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/tools/catalog"
)

// What an agent asks for, and the endpoint it needs first.
var ranking = []struct {
	query, want string // want is "METHOD /path"
}{
	{"list users", "GET /v1/users"},
	{"ban user", "POST /v1/users/{user_id}/ban"},
	{"unban a user", "POST /v1/users/{user_id}/unban"},
	{"create organization invitation", "POST /v1/organizations/{organization_id}/invitations"},
	{"delete user", "DELETE /v1/users/{user_id}"},
	{"get user", "GET /v1/users/{user_id}"},
	{"update user metadata", "PATCH /v1/users/{user_id}/metadata"},
	{"create user", "POST /v1/users"},
	{"list organizations", "GET /v1/organizations"},
	{"create an org", "POST /v1/organizations"},
	{"delete organization", "DELETE /v1/organizations/{organization_id}"},
	{"get organization", "GET /v1/organizations/{organization_id}"},
	{"list organization members", "GET /v1/organizations/{organization_id}/memberships"},
	{"update organization membership role", "PATCH /v1/organizations/{organization_id}/memberships/{user_id}"},
	{"revoke session", "POST /v1/sessions/{session_id}/revoke"},
	{"list sessions", "GET /v1/sessions"},
	{"create jwt template", "POST /v1/jwt_templates"},
	{"list applications", "GET /v1/platform/applications"},
	{"create application", "POST /v1/platform/applications"},
	{"lock user", "POST /v1/users/{user_id}/lock"},
	{"list invitations", "GET /v1/invitations"},
	{"invite someone", "POST /v1/invitations"},
	{"revoke invitation", "POST /v1/invitations/{invitation_id}/revoke"},
	{"verify password", "POST /v1/users/{user_id}/verify_password"},
	{"list allowlist identifiers", "GET /v1/allowlist_identifiers"},
	{"create sign-in token", "POST /v1/sign_in_tokens"},
	{"how many users", "GET /v1/users/count"},
	{"impersonate user", "POST /v1/actor_tokens"},
	{"ban multiple users", "POST /v1/users/ban"},
}

func TestRanking(t *testing.T) {
	for _, tc := range ranking {
		got := catalog.Search(tc.query, catalog.Filter{}, 3)
		if len(got) == 0 {
			t.Errorf("%q: no results, want %s", tc.query, tc.want)
			continue
		}
		if first := got[0].Method + " " + got[0].Path; first != tc.want {
			var rest []string
			for _, e := range got {
				rest = append(rest, e.Method+" "+e.Path)
			}
			t.Errorf("%q: first is %s, want %s (top 3: %v)", tc.query, first, tc.want, rest)
		}
	}
}

func TestFilters(t *testing.T) {
	for _, e := range catalog.Search("user", catalog.Filter{Target: "platform"}, 0) {
		if e.Target != "platform" {
			t.Fatalf("target filter let through %+v", e)
		}
	}
	for _, e := range catalog.Search("", catalog.Filter{Method: "delete", Tag: "users"}, 0) {
		if e.Method != "DELETE" {
			t.Fatalf("method filter let through %+v", e)
		}
	}
	if got := catalog.Search("", catalog.Filter{Tag: "Users"}, 5); len(got) != 5 {
		t.Fatalf("empty query with a tag and limit 5: %d results", len(got))
	}
	if got := catalog.Search("zzzz qqqq", catalog.Filter{}, 10); len(got) != 0 {
		t.Fatalf("nonsense query matched %d endpoints", len(got))
	}
}

func TestCatalogCoversBothSpecs(t *testing.T) {
	var backend, platform int
	for _, e := range catalog.All() {
		switch e.Target {
		case "backend":
			backend++
		case "platform":
			platform++
		default:
			t.Fatalf("unknown target in %+v", e)
		}
		if e.OperationID == "" || e.Summary == "" || e.Path[:4] != "/v1/" {
			t.Fatalf("incomplete endpoint %+v", e)
		}
	}
	// SOURCE.md: 249 Backend and 51 Platform operations.
	if backend != 249 || platform != 51 {
		t.Fatalf("catalog has %d backend and %d platform endpoints, want 249 and 51", backend, platform)
	}
}

// The embedded catalog is what `go generate` makes from the specs.
func TestGeneratedCatalogIsFresh(t *testing.T) {
	out := filepath.Join(t.TempDir(), "endpoints.json")
	cmd := exec.Command("go", "run", "./gen", "-out", out)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	fresh, _ := os.ReadFile(out)
	embedded, _ := os.ReadFile("endpoints.json")
	if !bytes.Equal(fresh, embedded) {
		t.Fatal("endpoints.json is stale: run `go generate ./tools/catalog`")
	}
}

func BenchmarkSearch(b *testing.B) {
	catalog.Search("warm up", catalog.Filter{}, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		catalog.Search(ranking[i%len(ranking)].query, catalog.Filter{}, 10)
	}
}

// BenchmarkSubstringScan is the baseline for BenchmarkSearch: the least a
// search can do, one case-insensitive substring test per endpoint summary.
func BenchmarkSubstringScan(b *testing.B) {
	all := catalog.All()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q := strings.ToLower(ranking[i%len(ranking)].query)
		n := 0
		for _, e := range all {
			if strings.Contains(strings.ToLower(e.Summary), q) {
				n++
			}
		}
		_ = n
	}
}
