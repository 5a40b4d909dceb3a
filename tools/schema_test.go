package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

// Every tool's schemas, under every flag that changes them, keep to what
// all clients accept: Gemini rejects `type` arrays in function
// declarations, and the TypeScript SDK rejects a bare `true` schema.
func TestSchemasPortable(t *testing.T) {
	for _, d := range []Deps{{}, {ReadOnly: true}, {Confirm: ConfirmWrites}, {Confirm: ConfirmNever}} {
		for _, tool := range All(d) {
			for _, s := range []struct {
				kind   string
				schema json.RawMessage
			}{{"input", tool.InputSchema}, {"output", tool.OutputSchema}} {
				if s.schema == nil {
					if s.kind == "input" {
						t.Errorf("%s: no input schema", tool.Name)
					}
					continue
				}
				var v any
				if err := json.Unmarshal(s.schema, &v); err != nil {
					t.Fatalf("%s %s schema: %v", tool.Name, s.kind, err)
				}
				for _, p := range schemaProblems("#", v) {
					t.Errorf("%s %s schema: %s", tool.Name, s.kind, p)
				}
			}
		}
	}
}

// The tools' input schemas close their objects and require what their
// handlers require.
func TestInputSchemasClosed(t *testing.T) {
	required := map[string][]string{"whoami": nil, "doctor": nil, "api": {"path"}, "api_endpoints": nil}
	for _, tool := range All(Deps{}) {
		var s struct {
			Type                 string          `json:"type"`
			Properties           map[string]any  `json:"properties"`
			Required             []string        `json:"required"`
			AdditionalProperties json.RawMessage `json:"additionalProperties"`
		}
		if err := json.Unmarshal(tool.InputSchema, &s); err != nil {
			t.Fatal(err)
		}
		want, ok := required[tool.Name]
		switch {
		case !ok:
			t.Errorf("%s: no expectation for this tool", tool.Name)
		case s.Type != "object" || s.Properties == nil:
			t.Errorf("%s: input schema is not an object with properties: %s", tool.Name, tool.InputSchema)
		case string(s.AdditionalProperties) != "false":
			t.Errorf("%s: input schema allows unknown arguments: %s", tool.Name, tool.InputSchema)
		case !slices.Equal(s.Required, want):
			t.Errorf("%s: required = %q, want %q", tool.Name, s.Required, want)
		}
	}
}

func TestSchemaProblems(t *testing.T) {
	for _, tt := range []struct {
		schema string
		want   string // a problem's text, "" for none
	}{
		{`{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`, ""},
		{`{"type":"object","properties":{"a":{"description":"any JSON"}}}`, ""},
		{`{"type":"object","properties":{"a":{"default":true,"enum":[true,false],"type":"boolean"}}}`, ""},
		{`{"type":["string","null"]}`, `#: "type" is an array`},
		{`{"properties":{"a":{"items":{"type":["string","number"]}}}}`, `#/properties/a/items: "type" is an array`},
		{`{"type":"object","additionalProperties":{"type":["string","array"]}}`, `#/additionalProperties: "type" is an array`},
		{`{"anyOf":[{"type":"string"},{"type":["number","null"]}]}`, `#/anyOf/1: "type" is an array`},
		{`{"properties":{"a":true}}`, `#/properties/a: bare true`},
		{`{"properties":{"a":false}}`, `#/properties/a: bare false`},
		{`{"type":"object","additionalProperties":true}`, `#/additionalProperties: bare true`},
		{`{"items":true}`, `#/items: bare true`},
		{`{"$defs":{"x":true}}`, `#/$defs/x: bare true`},
		{`true`, `#: bare true`},
		{`{"properties":{"a":"string"}}`, `#/properties/a: not a schema`},
	} {
		var v any
		if err := json.Unmarshal([]byte(tt.schema), &v); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(schemaProblems("#", v), "; ")
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("schemaProblems(%s) = %q, want %q", tt.schema, got, tt.want)
		}
	}
}

// schemaProblems walks the JSON Schema v, at JSON pointer path, and
// returns where it has a `type` array or a boolean schema. The one boolean
// allowed is additionalProperties false, which closes an object.
func schemaProblems(path string, v any) []string {
	switch v := v.(type) {
	case bool:
		if !v && strings.HasSuffix(path, "/additionalProperties") {
			return nil
		}
		return []string{fmt.Sprintf("%s: bare %v", path, v)}
	case map[string]any:
		var problems []string
		if _, ok := v["type"].([]any); ok {
			problems = append(problems, path+`: "type" is an array`)
		}
		for k, sub := range v {
			switch k {
			case "items", "additionalProperties", "not", "if", "then", "else", "contains",
				"propertyNames", "unevaluatedProperties", "unevaluatedItems", "additionalItems":
				if list, ok := sub.([]any); ok && k == "items" { // draft 7 tuple
					for i, s := range list {
						problems = append(problems, schemaProblems(fmt.Sprintf("%s/%s/%d", path, k, i), s)...)
					}
					continue
				}
				problems = append(problems, schemaProblems(path+"/"+k, sub)...)
			case "allOf", "anyOf", "oneOf", "prefixItems":
				list, _ := sub.([]any)
				for i, s := range list {
					problems = append(problems, schemaProblems(fmt.Sprintf("%s/%s/%d", path, k, i), s)...)
				}
			case "properties", "patternProperties", "$defs", "definitions", "dependentSchemas":
				m, _ := sub.(map[string]any)
				for name, s := range m {
					problems = append(problems, schemaProblems(path+"/"+k+"/"+name, s)...)
				}
			}
		}
		slices.Sort(problems) // map order is random; reports are not
		return problems
	}
	return []string{path + ": not a schema"}
}

// api_endpoints' answers, searches and details alike, are valid against
// its derived output schema, as clients check them.
func TestEndpointsOutputMatchesSchema(t *testing.T) {
	var tool Tool
	for _, tl := range All(Deps{}) {
		if tl.Name == "api_endpoints" {
			tool = tl
		}
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(tool.OutputSchema, &s); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Validate(map[string]any{"endpoints": []any{map[string]any{"target": "elsewhere"}}}) == nil {
		t.Fatal("the output schema accepts an invalid answer")
	}
	for _, args := range []string{
		`{"query":"list users"}`,
		`{"query":"nothing matches this zzqx"}`,
		`{"query":"users","limit":50}`,
		`{"operation_id":"CreateUser"}`,
		`{"operation_id":"GetUserList"}`,
		`{"method":"GET","path":"/v1/platform/applications"}`,
	} {
		out, err := tool.Handler(context.Background(), json.RawMessage(args))
		if err != nil {
			t.Fatalf("%s: %v", args, err)
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if err := rs.Validate(v); err != nil {
			t.Errorf("%s: answer does not match the output schema: %v", args, err)
		}
	}
}

var updateSchemas = flag.Bool("update", false, "rewrite tools/schemas_gen.go from the Go types")

// The generated schemas are what the Go types derive today: a changed
// argument or result type without `go test ./tools -run
// TestEmbeddedSchemasAreFresh -update` fails here.
func TestEmbeddedSchemasAreFresh(t *testing.T) {
	keys := make([]string, 0, len(schemaDerivers))
	for key := range schemaDerivers {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.WriteString("// Code generated by `go test ./tools -run TestEmbeddedSchemasAreFresh -update`. DO NOT EDIT.\n\n")
	b.WriteString("package tools\n\n")
	b.WriteString("// generatedSchema returns the schema named key, derived from the Go\n// types by schemaDerivers (schema.go).\n")
	b.WriteString("func generatedSchema(key string) (string, bool) {\n\tswitch key {\n")
	for _, key := range keys {
		var c bytes.Buffer
		if err := json.Compact(&c, schemaDerivers[key]()); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		lit := "`" + c.String() + "`"
		if strings.Contains(c.String(), "`") {
			lit = strconv.Quote(c.String())
		}
		fmt.Fprintf(&b, "\tcase %q:\n\t\treturn %s, true\n", key, lit)
	}
	b.WriteString("\t}\n\treturn \"\", false\n}\n")
	want, err := format.Source(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if *updateSchemas {
		if err := os.WriteFile("schemas_gen.go", want, 0o644); err != nil {
			t.Fatalf("update schemas_gen.go: %v", err)
		}
	}
	got, err := os.ReadFile("schemas_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("schemas_gen.go is stale: run go test ./tools -run TestEmbeddedSchemasAreFresh -update")
	}
}

// Every output schema of every tool, under every flag that changes them,
// allows the marker a result cut to its budget adds.
func TestOutputSchemasAllowTruncation(t *testing.T) {
	for _, d := range []Deps{{}, {ReadOnly: true}, {Confirm: ConfirmWrites}, {Confirm: ConfirmNever}} {
		for _, tool := range All(d) {
			if tool.OutputSchema == nil {
				continue
			}
			var s struct {
				Properties map[string]json.RawMessage `json:"properties"`
			}
			if err := json.Unmarshal(tool.OutputSchema, &s); err != nil {
				t.Fatalf("%s: %v", tool.Name, err)
			}
			if s.Properties["truncated"] == nil {
				t.Errorf("%s: the output schema has no truncated property", tool.Name)
			}
		}
	}
}
