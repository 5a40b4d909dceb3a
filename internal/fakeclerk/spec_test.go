package fakeclerk_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/internal/spectest"
)

// The fake's application answers are Clerk's: every field, required field
// and type as PlatformApplicationResponse and PlatformApplicationInstance
// say, and secret_key (a string on each instance) only when asked for.
func TestApplicationAnswersFollowPlatformSpec(t *testing.T) {
	fake := fakeclerk.New(t)
	checker := spectest.Attach(t, fake)
	get := func(path string) any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, fake.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+fake.PlatformAPIKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: %d %s %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return v
	}
	app := "/v1/platform/applications/" + fake.ApplicationID()
	cases := []struct {
		path    string
		secrets bool
	}{
		{app, false},
		{app + "?include_secret_keys=true", true},
		{app + "?include_secret_keys=false", false},
		{"/v1/platform/applications", false},
		{"/v1/platform/applications?include_secret_keys=true", true},
	}
	for _, tc := range cases {
		v := get(tc.path)
		apps, ok := v.([]any)
		if !ok {
			apps = []any{v}
		}
		for _, a := range apps {
			for _, in := range a.(map[string]any)["instances"].([]any) {
				in := in.(map[string]any)
				key, has := in["secret_key"].(string)
				if has != tc.secrets {
					t.Errorf("GET %s: secret_key present=%v, want %v", tc.path, has, tc.secrets)
				}
				if has && key != fake.SecretKey(in["environment_type"].(string)) {
					t.Errorf("GET %s: secret_key of %s is not the instance's key", tc.path, in["environment_type"])
				}
			}
		}
	}
	// The shapes themselves: the checker fails the test at its end on any
	// violation; here it must have seen every answer.
	if n := checker.Checked(); n != len(cases) {
		t.Fatalf("spec checker saw %d answers, want %d", n, len(cases))
	}
}
