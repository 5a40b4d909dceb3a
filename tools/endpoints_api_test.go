package tools

import (
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// An agent asking api_endpoints for "list users" gets GET /v1/users first,
// then calls it through api; no login is needed to search.
func TestAPIEndpointsFindsThePathForAPI(t *testing.T) {
	e := newToolEnv(t, nil)
	text, err := e.call(t, "api_endpoints", map[string]any{"query": "list users"})
	if err != nil {
		t.Fatalf("api_endpoints without a session: %s", envelope.Marshal(err))
	}
	got := decode[EndpointsResult](t, text)
	if len(got.Endpoints) == 0 {
		t.Fatalf("api_endpoints without a session: %s", text)
	}
	first := got.Endpoints[0]
	if first.Method != "GET" || first.Path != "/v1/users" || first.Target != "backend" || first.HasBody {
		t.Fatalf("first match for \"list users\" = %+v", first)
	}
	// The server sends a result as structuredContent when the tool
	// declares an output schema (server tests check it arrives).
	if e.tools["api_endpoints"].OutputSchema == nil {
		t.Fatal("api_endpoints declares no output schema")
	}
	got = decode[EndpointsResult](t, e.ok(t, "api_endpoints", map[string]any{"query": "ban user", "target": "platform", "limit": 2}))
	if len(got.Endpoints) == 0 || len(got.Endpoints) > 2 || got.Endpoints[0].Target != "platform" ||
		!strings.HasSuffix(got.Endpoints[0].Path, "/ban") || len(got.Endpoints[0].PathParams) != 3 {
		t.Fatalf("platform ban user: %+v", got)
	}
	e.fail(t, "api_endpoints", map[string]any{"query": " "}, envelope.ReasonInvalidInput)
	e.fail(t, "api_endpoints", map[string]any{"query": "users", "limit": 500}, envelope.ReasonInvalidInput)

	// The found path works with api as is.
	e.login(t, time.Now().Add(time.Hour))
	if _, err := e.call(t, "api", map[string]any{"target": first.Target, "method": first.Method, "path": first.Path, "application_id": e.fake.ApplicationID()}); err != nil {
		t.Fatalf("api with the path from api_endpoints: %s", envelope.Marshal(err))
	}
	// A 404 points to api_endpoints.
	body := e.fail(t, "api", map[string]any{"path": "/nope"}, envelope.ReasonAPIError)
	if !strings.Contains(body.Remedy, "api_endpoints") {
		t.Fatalf("404 remedy does not mention api_endpoints: %s", body.Remedy)
	}
}
