package catalog_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// The embedded catalog is what `go generate` makes from the specs. The
// gzipped files are compared decompressed: another Go version may
// compress the same JSON to other bytes.
func TestGeneratedCatalogIsFresh(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./gen", "-out", filepath.Join(dir, "endpoints.json.gz"), "-details", filepath.Join(dir, "details.json.gz"))
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"endpoints.json.gz", "details.json.gz"} {
		if !bytes.Equal(gunzipFile(t, filepath.Join(dir, name)), gunzipFile(t, name)) {
			t.Fatalf("%s is stale: run `go generate ./tools/catalog`", name)
		}
	}
}

func gunzipFile(t *testing.T, name string) []byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return data
}

// intent is one request in a user's words and the operations that answer
// it, as testdata/*intents.json hold them.
type intent struct {
	Intent string   `json:"intent"`
	Want   []string `json:"want"`
}

func loadIntents(t testing.TB, name string) []intent {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	// A misspelt key would leave a case without wants, a silent miss.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cases []intent
	if err := dec.Decode(&cases); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if dec.More() {
		t.Fatalf("%s: data after the list of intents", name)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no intents", name)
	}
	for i, c := range cases {
		if c.Intent == "" || len(c.Want) == 0 {
			t.Fatalf("%s: intent %d has no intent or no wanted operation: %+v", name, i, c)
		}
	}
	return cases
}

// hitRates is the share of intents whose first hit, and whose first three
// hits, include a wanted operation. Misses are logged for -v.
func hitRates(t *testing.T, cases []intent) (top1, top3 float64) {
	t.Helper()
	known := map[string]bool{}
	for _, e := range catalog.All() {
		known[e.OperationID] = true
	}
	var one, three int
	for _, c := range cases {
		for _, w := range c.Want {
			if !known[w] {
				t.Errorf("%q wants %s, which the catalog does not have", c.Intent, w)
			}
		}
		got := catalog.Search(c.Intent, catalog.Filter{}, 3)
		rank := slices.IndexFunc(got, func(e catalog.Endpoint) bool { return slices.Contains(c.Want, e.OperationID) })
		switch {
		case rank == 0:
			one++
			three++
			continue
		case rank > 0:
			three++
		}
		ids := make([]string, len(got))
		for i, e := range got {
			ids[i] = e.OperationID
		}
		t.Logf("rank %d: %q wants %v, top 3 %v", rank+1, c.Intent, c.Want, ids)
	}
	return float64(one) / float64(len(cases)), float64(three) / float64(len(cases))
}

// The development sets: intents written while tuning the ranking, by the
// ranking's author (dev_intents.json) and by a second writer who never saw
// the ranking (dev_intents_2.json, every operation). Both tune it; the
// floor is what they reach (87.1% and 97.5%), less a small margin.
func TestDevIntents(t *testing.T) {
	var top1, top3 float64
	n := 0
	for _, name := range []string{"testdata/dev_intents.json", "testdata/dev_intents_2.json"} {
		cases := loadIntents(t, name)
		one, three := hitRates(t, cases)
		t.Logf("%s: top-1 %.1f%%, top-3 %.1f%% of %d", name, 100*one, 100*three, len(cases))
		top1 += one * float64(len(cases))
		top3 += three * float64(len(cases))
		n += len(cases)
	}
	top1, top3 = top1/float64(n), top3/float64(n)
	t.Logf("dev intents: top-1 %.1f%%, top-3 %.1f%% of %d", 100*top1, 100*top3, n)
	if top1 < 0.85 || top3 < 0.95 {
		t.Errorf("dev intents: top-1 %.2f, top-3 %.2f; want at least 0.85 and 0.95", top1, top3)
	}
}

// The held-out set, written by someone else and never used to tune the
// ranking: testdata/README.md says how it was made. Issue 10's goal is
// top-1 0.70 and top-3 0.90; the ranking measured 0.767 and 0.926 when
// these floors were set about 2 points below, to catch regressions.
func TestHeldOutIntents(t *testing.T) {
	top1, top3 := hitRates(t, loadIntents(t, "testdata/intents.json"))
	t.Logf("held-out intents: top-1 %.1f%%, top-3 %.1f%%", 100*top1, 100*top3)
	if top1 < 0.74 || top3 < 0.90 {
		t.Errorf("held-out intents: top-1 %.2f, top-3 %.2f; want at least 0.74 and 0.90", top1, top3)
	}
}

// BenchmarkSearch times one ranked query in a user's words.
func BenchmarkSearch(b *testing.B) {
	cases := loadIntents(b, "testdata/dev_intents.json")
	catalog.Search("warm up", catalog.Filter{}, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		catalog.Search(cases[i%len(cases)].Intent, catalog.Filter{}, 10)
	}
}

// BenchmarkSubstringScan is the baseline for BenchmarkSearch, on the same
// queries: the least a search can do, one case-insensitive substring test
// per endpoint summary.
func BenchmarkSubstringScan(b *testing.B) {
	cases := loadIntents(b, "testdata/dev_intents.json")
	all := catalog.All()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q := strings.ToLower(cases[i%len(cases)].Intent)
		n := 0
		for _, e := range all {
			if strings.Contains(strings.ToLower(e.Summary), q) {
				n++
			}
		}
		_ = n
	}
}

// Every operation has the requests the search learns it by (requests/):
// an operation added to the specs without them would be found by its
// summary's words alone.
func TestEveryOperationHasRequests(t *testing.T) {
	files, err := filepath.Glob("requests/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no requests files (%v)", err)
	}
	count := map[string]int{}
	for _, name := range files {
		for _, c := range loadIntents(t, name) {
			for _, w := range c.Want {
				count[w]++
			}
		}
	}
	for _, e := range catalog.All() {
		if n := count[e.OperationID]; n < 8 {
			t.Errorf("%s (%s %s) has %d requests in requests/, want at least 8", e.OperationID, e.Method, e.Path, n)
		}
	}
}

// A query of words the catalog does not know finds nothing rather than a
// guess; names used as sample values in the requests ("Acme") weigh on no
// operation.
func TestUnknownWordsFindNothing(t *testing.T) {
	for _, q := range []string{"x y z", "x x x", "acme corp staff", "zzqx", "the of and"} {
		if got := catalog.Search(q, catalog.Filter{}, 3); len(got) != 0 {
			t.Errorf("%q found %s first, want nothing", q, got[0].OperationID)
		}
	}
	for _, name := range []string{"acme", "contoso", "globex"} {
		q := "delete the " + name + " org"
		if got := catalog.Search(q, catalog.Filter{}, 1); len(got) == 0 || got[0].OperationID != "DeleteOrganization" {
			t.Errorf("%q: first %v, want DeleteOrganization", q, got)
		}
	}
}

// The requests the search learns from are not the held-out intents it is
// measured on, nor close paraphrases: a request sharing half its words
// with a held-out intent would make the held-out figure a training one.
func TestRequestsStayApartFromHeldOut(t *testing.T) {
	words := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
		}) {
			m[w] = true
		}
		return m
	}
	var held []map[string]bool
	for _, c := range loadIntents(t, "testdata/intents.json") {
		held = append(held, words(c.Intent))
	}
	files, err := filepath.Glob("requests/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		for _, c := range loadIntents(t, name) {
			w := words(c.Intent)
			for i, h := range held {
				common := 0
				for x := range w {
					if h[x] {
						common++
					}
				}
				if union := len(w) + len(h) - common; union > 0 && 2*common >= union {
					t.Errorf("%s: %q shares %d of %d words with held-out intent %d", name, c.Intent, common, union, i)
				}
			}
		}
	}
}
