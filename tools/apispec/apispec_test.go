package apispec_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/tools/apispec"
)

func backend(t *testing.T) *apispec.Spec {
	t.Helper()
	s, err := apispec.Backend()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func violations(t *testing.T, err error) []apispec.Violation {
	t.Helper()
	var ve *apispec.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v, want a *ValidationError", err)
	}
	return ve.Violations
}

func TestFindPrefersLiteralSegments(t *testing.T) {
	s := backend(t)
	cases := []struct{ method, path, want string }{
		{"GET", "/users/count", "GetUsersCount"},
		{"GET", "/users/user_123", "GetUser"},
		{"POST", "/users/user_123/ban", "BanUser"},
		{"GET", "/organizations/org_1/memberships", "ListOrganizationMemberships"},
		{"delete", "/organizations/org_1/memberships/user_2", "DeleteOrganizationMembership"},
	}
	for _, c := range cases {
		op, _, ok := s.Find(c.method, c.path)
		if !ok || op.ID != c.want {
			t.Errorf("Find(%s %s) = %v, want %s", c.method, c.path, op, c.want)
		}
	}
	if _, _, ok := s.Find("GET", "/no/such/thing"); ok {
		t.Error("Find matched an undocumented path")
	}
}

func TestCheckRequestNamesTheFieldAndWhatWasExpected(t *testing.T) {
	s := backend(t)
	ctx := context.Background()
	cases := []struct {
		name    string
		req     apispec.Request
		pointer string
		problem string
	}{
		{"missing required field",
			apispec.Request{Method: "POST", Path: "/organizations", Body: []byte(`{"slug":"acme"}`)},
			"/body/name", "missing"},
		{"wrong type",
			apispec.Request{Method: "POST", Path: "/users", Body: []byte(`{"email_address":"ada@example.com"}`)},
			"/body/email_address", "must be of type array"},
		{"enum violation",
			apispec.Request{Method: "POST", Path: "/users", Body: []byte(`{"email_address_identification_status":["maybe"]}`)},
			"/body/email_address_identification_status/0", "must be one of: verified, reserved"},
		{"unknown property",
			apispec.Request{Method: "POST", Path: "/users", Body: []byte(`{"emails":["ada@example.com"]}`)},
			"/body", `"emails" is unsupported`},
		{"query parameter type",
			apispec.Request{Method: "GET", Path: "/users", Query: url.Values{"limit": {"ten"}}},
			"/query/limit", "must be a valid integer"},
		{"one of two fields",
			apispec.Request{Method: "POST", Path: "/saml_connections", Body: []byte(`{"name":"Okta","provider":"saml_okta"}`)},
			"/body", "needs one of the fields domain or domains"},
		{"nullable field of the wrong type",
			apispec.Request{Method: "POST", Path: "/users", Body: []byte(`{"email_address":["ada@example.com"],"banned":"yes"}`)},
			"/body/banned", "must be of type boolean"},
		{"body that is not JSON",
			apispec.Request{Method: "POST", Path: "/users", Body: []byte(`{"email_address":`)},
			"/body", "decode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs := violations(t, s.CheckRequest(ctx, c.req))
			for _, v := range vs {
				if v.Pointer == c.pointer && strings.Contains(v.Problem, c.problem) {
					return
				}
			}
			t.Fatalf("violations %+v, want %s: ...%s...", vs, c.pointer, c.problem)
		})
	}
}

func TestCheckRequestAcceptsValidAndUnknown(t *testing.T) {
	s := backend(t)
	ctx := context.Background()
	for _, req := range []apispec.Request{
		{Method: "POST", Path: "/users", Body: []byte(`{"email_address":["ada@example.com"],"password":"correct horse battery"}`)},
		{Method: "POST", Path: "/organizations", Body: []byte(`{"name":"Acme"}`)},
		{Method: "GET", Path: "/users", Query: url.Values{"limit": {"10"}, "offset": {"0"}}},
		{Method: "GET", Path: "/users/count"},
		{Method: "POST", Path: "/users", Body: []byte(`{"email_address":["ada@example.com"],"banned":null}`)},
		{Method: "POST", Path: "/saml_connections", Body: []byte(`{"name":"Okta","provider":"saml_okta","domains":["acme.com"]}`)},
		{Method: "POST", Path: "/not/in/the/spec", Body: []byte(`{"anything":1}`)},
	} {
		if err := s.CheckRequest(ctx, req); err != nil {
			t.Errorf("%s %s: %v", req.Method, req.Path, err)
		}
	}
}

func TestViolationsNeverQuoteTheValue(t *testing.T) {
	s := backend(t)
	secret := "hunter2-do-not-echo"
	for _, req := range []apispec.Request{
		{Method: "POST", Path: "/users", Body: []byte(`{"password":["` + secret + `"]}`)},
		{Method: "GET", Path: "/users", Query: url.Values{"limit": {secret}}},
		{Method: "POST", Path: "/users", Body: []byte(`{"email_address_identification_status":["` + secret + `"]}`)},
	} {
		err := s.CheckRequest(context.Background(), req)
		if err == nil {
			t.Fatalf("%s: no violation", req.Body)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("the violation quotes the value: %v", err)
		}
	}
}

func TestPlatformSpecLoads(t *testing.T) {
	s, err := apispec.Platform()
	if err != nil {
		t.Fatal(err)
	}
	op, params, ok := s.Find("GET", "/platform/applications/app_1")
	if !ok || params["applicationID"] != "app_1" {
		t.Fatalf("Find platform application: %+v %v %v", op, params, ok)
	}
	usage := "/platform/applications/app_1/instances/ins_1/usage"
	vs := violations(t, s.CheckRequest(context.Background(), apispec.Request{Method: "GET", Path: usage, Query: url.Values{"start": {"yesterday"}}}))
	if len(vs) != 1 || vs[0].Pointer != "/query/start" || vs[0].Problem != "must be a valid date" {
		t.Errorf("usage with start=yesterday: %+v, want /query/start: must be a valid date", vs)
	}
	if err := s.CheckRequest(context.Background(), apispec.Request{Method: "GET", Path: usage, Query: url.Values{"start": {"2026-11-01"}}}); err != nil {
		t.Errorf("usage with start=2026-11-01: %v", err)
	}
}

// The embedded copies must be what gen makes of the vendored specs today:
// a spec update without `go generate ./tools/apispec` fails here.
func TestEmbeddedSpecsAreFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	out := t.TempDir()
	cmd := exec.Command("go", "run", "./gen", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, b)
	}
	for _, name := range []string{"backend.json.gz", "platform.json.gz"} {
		fresh, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		embedded, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, embedded) {
			t.Errorf("%s is stale: run `go generate ./tools/apispec`", name)
		}
	}
}

// Values a hostile or careless caller may send are refused, quickly and
// without a panic; values kin-openapi reads are read the same way.
func TestCheckRequestEdgeValues(t *testing.T) {
	s := backend(t)
	ctx := context.Background()
	key := url.Values{"subject": {"user_" + strings.Repeat("a", 27)}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for name, vs := range key {
			q[name] = vs
		}
		q.Set(k, v)
		return q
	}
	refused := []struct {
		name    string
		req     apispec.Request
		pointer string
		problem string
	}{
		{"NaN for a number", apispec.Request{Method: "GET", Path: "/api_keys", Query: with("limit", "NaN")}, "/query/limit", "must be a valid number"},
		{"a hex float", apispec.Request{Method: "GET", Path: "/api_keys", Query: with("limit", "0x1p3")}, "/query/limit", "must be a valid number"},
		{"a huge exponent", apispec.Request{Method: "POST", Path: "/api_keys", Body: []byte(`{"name":"n","subject":"user_1","seconds_until_expiration":1e10000000}`)},
			"/body/seconds_until_expiration", "exponent within"},
		{"a tiny exponent", apispec.Request{Method: "POST", Path: "/api_keys", Body: []byte(`{"name":"n","subject":"user_1","seconds_until_expiration":1e-10000000}`)},
			"/body/seconds_until_expiration", "exponent within"},
		{"an int64 out of range", apispec.Request{Method: "POST", Path: "/billing/prices", Body: []byte(`{"amount":1e300,"plan_id":"p","currency":"usd"}`)},
			"/body/amount", "must be a valid int64"},
		{"a JSON body to a file upload", apispec.Request{Method: "POST", Path: "/users/user_1/profile_image", Body: []byte(`{"file":"x"}`)},
			"/body", "which the api tool cannot send"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			vs := violations(t, s.CheckRequest(ctx, c.req))
			if d := time.Since(start); d > time.Second {
				t.Errorf("check took %s", d)
			}
			for _, v := range vs {
				if v.Pointer == c.pointer && strings.Contains(v.Problem, c.problem) {
					return
				}
			}
			t.Fatalf("violations %+v, want %s: ...%s...", vs, c.pointer, c.problem)
		})
	}
	for _, v := range []string{"1", "0", "True", "false"} {
		if err := s.CheckRequest(ctx, apispec.Request{Method: "GET", Path: "/users", Query: url.Values{"banned": {v}}}); err != nil {
			t.Errorf("banned=%s: %v", v, err)
		}
	}
	// Decimals as a caller may write them, and as the api tool writes a
	// large one (no exponent).
	for _, v := range []string{"+5", "01", "5.", "1e5", strconv.FormatFloat(1e70, 'f', -1, 64)} {
		if err := s.CheckRequest(ctx, apispec.Request{Method: "GET", Path: "/api_keys", Query: with("offset", v)}); err != nil {
			t.Errorf("offset=%s: %v", v, err)
		}
	}
	long := `{"email_address":["ada@example.com"],"public_metadata":{"n":` + strings.Repeat("9", 200) + `}}`
	if err := s.CheckRequest(ctx, apispec.Request{Method: "POST", Path: "/users", Body: []byte(long)}); err != nil {
		t.Errorf("a 200-digit number in metadata: %v", err)
	}
}

// A request with a great many faults lists twenty and counts the rest.
func TestViolationsAreBounded(t *testing.T) {
	items := strings.TrimSuffix(strings.Repeat(`{"email_address":7},`, 500), ",")
	err := backend(t).CheckRequest(context.Background(), apispec.Request{Method: "POST", Path: "/invitations/bulk", Body: []byte("[" + items + "]")})
	var ve *apispec.ValidationError
	// 501: the 500 items and their number (at most 10).
	if !errors.As(err, &ve) || len(ve.Violations) != 20 || ve.More != 481 || !strings.HasSuffix(err.Error(), "; and 481 more") {
		t.Fatalf("%v; want 20 violations listed and 481 more counted", err)
	}
}
