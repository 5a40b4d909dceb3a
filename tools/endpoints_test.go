package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/tools"
	"github.com/clerk-mcp/clerk-mcp/tools/apispec"
	"github.com/clerk-mcp/clerk-mcp/tools/catalog"
)

func TestEndpointsSearchIsCompact(t *testing.T) {
	res, err := tools.FindEndpoints(tools.EndpointsArgs{Query: "how do I create a user"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Endpoints) == 0 || res.Endpoints[0].OperationID != "CreateUser" {
		t.Fatalf("first hit = %+v, want CreateUser", res.Endpoints)
	}
	out, _ := json.Marshal(res)
	var raw struct {
		Endpoints []map[string]any `json:"endpoints"`
	}
	json.Unmarshal(out, &raw)
	for _, hit := range raw.Endpoints {
		for k := range hit {
			switch k {
			case "target", "method", "path", "summary", "operation_id", "path_params", "has_body", "deprecated":
			default:
				t.Fatalf("search hit carries %q: %s", k, out)
			}
		}
	}
	none, err := tools.FindEndpoints(tools.EndpointsArgs{Query: "zzzz qqqq"})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := json.Marshal(none); string(out) != `{"endpoints":[]}` {
		t.Fatalf("no hits = %s", out)
	}
}

// Every way an agent may name one operation finds it.
func TestEndpointsDetailLookup(t *testing.T) {
	for _, c := range []struct {
		args tools.EndpointsArgs
		want string
	}{
		{tools.EndpointsArgs{OperationID: "CreateUser"}, "CreateUser"},
		{tools.EndpointsArgs{OperationID: "createuser"}, "CreateUser"},
		{tools.EndpointsArgs{Method: "POST", Path: "/users"}, "CreateUser"},
		{tools.EndpointsArgs{Method: "post", Path: "/v1/users", Target: "backend"}, "CreateUser"},
		{tools.EndpointsArgs{Method: "GET", Path: "/v1/users/{user_id}"}, "GetUser"},
		{tools.EndpointsArgs{Method: "GET", Path: "/users/user_2abc"}, "GetUser"},
		{tools.EndpointsArgs{Method: "GET", Path: "/users/count"}, "GetUsersCount"},
		{tools.EndpointsArgs{Method: "POST", Path: "/platform/applications"}, "PlatformCreateApplication"},
		{tools.EndpointsArgs{Method: "POST", Path: "/applications", Target: "platform"}, "PlatformCreateApplication"},
		{tools.EndpointsArgs{Method: "GET", Path: "/applications/app_1"}, "PlatformGetApplication"},
		{tools.EndpointsArgs{Method: "DELETE", Path: "/organizations/org_1/memberships/user_1"}, "DeleteOrganizationMembership"},
	} {
		res, err := tools.FindEndpoints(c.args)
		if err != nil {
			t.Errorf("%+v: %v", c.args, err)
			continue
		}
		if res.Operation == nil || res.Operation.OperationID != c.want {
			t.Errorf("%+v: got %+v, want %s", c.args, res.Operation, c.want)
		}
	}
	for _, args := range []tools.EndpointsArgs{
		{OperationID: "NoSuchOperation"},
		{Method: "PATCH", Path: "/users"},
		{Path: "/users"},
		{Method: "POST", Path: "/users", Target: "platform"},
	} {
		_, err := tools.FindEndpoints(args)
		var te *envelope.Error
		if !errors.As(err, &te) || te.Remedy == "" {
			t.Errorf("%+v: err = %v, want a tool error with a remedy", args, err)
		}
	}
}

// An agent that asks for the detail of an operation and writes a body from
// it alone (the required fields, and the fields it means to set) sends a
// request that passes the spec's own check: the call Clerk answers with a
// 2xx on the first try rather than a 422.
func TestEndpointsDetailMakesAValidFirstCall(t *testing.T) {
	for _, c := range []struct {
		operationID string
		set         map[string]any // fields an agent sets beyond the required ones, by the detail's names
		path        string         // the concrete path, path_params filled in
		wantFields  []string       // response fields an agent projects with select
	}{
		{"CreateUser", map[string]any{"email_address": []any{"ada@example.com"}, "first_name": "Ada", "password": "correct-horse-battery-staple"},
			"/users", []string{"id", "email_addresses[].email_address"}},
		{"CreateOrganization", map[string]any{"created_by": "user_123", "slug": "acme"},
			"/organizations", []string{"id", "name", "slug"}},
		{"PlatformCreateApplication", map[string]any{"environment_types": []any{"development"}},
			"/platform/applications", []string{"application_id", "instances[].secret_key"}},
		{"CreateOrganizationInvitation", map[string]any{"email_address": "ada@example.com"},
			"/organizations/org_1/invitations", []string{"id", "status"}},
	} {
		t.Run(c.operationID, func(t *testing.T) {
			res, err := tools.FindEndpoints(tools.EndpointsArgs{OperationID: c.operationID})
			if err != nil {
				t.Fatal(err)
			}
			d := res.Operation
			if d.Body == nil || d.Body.Type != "object" {
				t.Fatalf("no object body in %+v", d)
			}
			body := map[string]any{}
			for _, name := range d.Body.Required {
				body[name] = example(t, name, d.Body.Properties[name])
			}
			for name, v := range c.set {
				p := d.Body.Properties[name]
				if p == nil {
					t.Fatalf("the detail has no body field %q; fields: %v", name, keys(d.Body.Properties))
				}
				if got := typeOf(v); got != p.Type {
					t.Fatalf("body field %q: the detail says %s, the test sets %s", name, p.Type, got)
				}
				body[name] = v
			}
			raw, _ := json.Marshal(body)
			spec, err := apispec.Backend()
			if d.Target == "platform" {
				spec, err = apispec.Platform()
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := spec.CheckRequest(context.Background(), apispec.Request{Method: d.Method, Path: c.path, Body: raw}); err != nil {
				t.Fatalf("body %s built from the detail fails the spec: %v", raw, err)
			}
			for _, f := range c.wantFields {
				if d.ResponseFields[f] == "" {
					t.Errorf("response_fields lack %q: %v", f, d.ResponseFields)
				}
			}
		})
	}
}

func TestEndpointsDetailParameters(t *testing.T) {
	res, err := tools.FindEndpoints(tools.EndpointsArgs{Method: "GET", Path: "/organizations/{organization_id}/memberships"})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Operation
	var path, orderBy bool
	for _, p := range d.Parameters {
		switch {
		case p.Name == "organization_id" && p.In == "path" && p.Required && p.Type == "string":
			path = true
		case p.Name == "limit" && p.In == "query" && !p.Required && p.Type == "integer":
			orderBy = true
		}
	}
	if !path || !orderBy {
		t.Fatalf("parameters = %+v, want organization_id (path, required) and limit (query)", d.Parameters)
	}
	if d.ResponseFields["data[].id"] == "" || d.ResponseFields["total_count"] == "" {
		t.Fatalf("response_fields = %v, want data[].id and total_count", d.ResponseFields)
	}
}

// example is what an agent writes for a required field, from its schema
// alone.
func example(t *testing.T, name string, s *catalog.Schema) any {
	t.Helper()
	if s == nil {
		t.Fatalf("required field %q has no schema", name)
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	switch s.Type {
	case "string":
		if s.Format == "email" || strings.Contains(name, "email") {
			return "ada@example.com"
		}
		return "example-" + name
	case "integer", "number":
		return 1
	case "boolean":
		return true
	case "array":
		return []any{example(t, name, s.Items)}
	case "object":
		obj := map[string]any{}
		for _, r := range s.Required {
			obj[r] = example(t, r, s.Properties[r])
		}
		return obj
	}
	t.Fatalf("required field %q has type %q", name, s.Type)
	return nil
}

func typeOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case []any:
		return "array"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case int, float64:
		return "integer"
	}
	return fmt.Sprintf("%T", v)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
