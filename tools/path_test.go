package tools_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/tools"
)

func TestNormalizePath(t *testing.T) {
	for _, c := range []struct{ target, in, want string }{
		{"backend", "/users", "/v1/users"},
		{"backend", "users/user_123", "/v1/users/user_123"},
		{"backend", "/v1/users/", "/v1/users"},
		{"platform", "/applications", "/v1/platform/applications"},
		{"platform", "/platform/applications", "/v1/platform/applications"},
		{"platform", "/v1/platform/applications/app_1", "/v1/platform/applications/app_1"},
		{"platform", "/v1/applications", "/v1/platform/applications"},
	} {
		got, err := tools.NormalizePath(c.target, c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizePath(%s, %q) = %q, %v; want %q", c.target, c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "//evil.example", "http://evil", "evil.example:443/x", `\\evil`, "/a@b", "/a/../b", "/a/./b",
		"/a%2fb", "/a%2Fb", "/a%5cb", "/%2e%2e/x", "/a?b=1", "/a#f", "/a\nb", "/a\x7fb", "/a b"} {
		if got, err := tools.NormalizePath("backend", bad); err == nil {
			t.Errorf("NormalizePath(%q) = %q, want an error", bad, got)
		}
	}
	if _, err := tools.NormalizePath("backend", "/platform/applications"); err == nil {
		t.Error("a Platform API path with target backend was accepted")
	}
}

// FuzzNormalizePath: no input yields a request URL whose scheme, host or
// port differ from the target's base, or that leaves the /v1 prefix.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/users", "//evil", "/..", "http://x", "/a/%2e%2e", "@evil", "/v1/platform/x", "\\\\x", "/a/./b", "users"} {
		f.Add(s, "a=b")
	}
	base := "https://api.clerk.test:8443/base"
	b, _ := url.Parse(base)
	f.Fuzz(func(t *testing.T, path, rawQuery string) {
		for _, target := range []string{tools.TargetPlatform, tools.TargetBackend} {
			p, err := tools.NormalizePath(target, path)
			if err != nil {
				continue
			}
			q, _ := url.ParseQuery(rawQuery)
			u, err := tools.RequestURL(base, p, q)
			if err != nil {
				t.Fatal(err)
			}
			back, err := url.Parse(u.String())
			if err != nil {
				t.Fatalf("request URL %q does not parse: %v", u, err)
			}
			if back.Scheme != b.Scheme || back.Host != b.Host || back.User != nil {
				t.Fatalf("path %q reached %s://%s", path, back.Scheme, back.Host)
			}
			if !strings.HasPrefix(back.Path, "/base/v1") || strings.Contains(back.Path, "//") {
				t.Fatalf("path %q escaped the API prefix: %q", path, back.Path)
			}
			for _, seg := range strings.Split(back.Path, "/") {
				if seg == ".." || seg == "." {
					t.Fatalf("path %q kept a dot segment: %q", path, back.Path)
				}
			}
		}
	})
}
