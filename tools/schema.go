package tools

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/clerk-mcp/clerk-mcp/tools/catalog"
)

// schemaDerivers are every tool's schemas, by key: each is derived from
// the Go type the handler decodes or encodes, by jsonschema-go, so that a
// schema cannot drift from its type. Field descriptions come from
// `jsonschema` struct tags; the edits say what Go types cannot (enums,
// defaults, bounds, fields holding one of several JSON types).
var schemaDerivers = map[string]func() json.RawMessage{
	"whoami.input":  func() json.RawMessage { return deriveSchema[noArgs](nil) },
	"whoami.output": func() json.RawMessage { return truncatable(deriveSchema[WhoamiResult](whoamiOutput)) },
	"doctor.input":  func() json.RawMessage { return deriveSchema[noArgs](nil) },
	"doctor.output": func() json.RawMessage { return truncatable(deriveSchema[DoctorReport](doctorOutput)) },
	"api.input":     func() json.RawMessage { return deriveSchema[APIArgs](apiInput) },
	"api_endpoints.input": func() json.RawMessage {
		return deriveSchema[EndpointsArgs](endpointsInput)
	},
	"api_endpoints.output": func() json.RawMessage {
		return truncatable(deriveSchema[EndpointsResult](endpointsOutput))
	},
}

// schema returns the schema named key. Deriving costs milliseconds of
// reflection, and even decoding a file of schemas costs a cold start half
// a millisecond, so the derived schemas are generated once into Go strings
// (schemas_gen.go); TestEmbeddedSchemasAreFresh derives them again and
// fails when the file is stale (`go test ./tools -run
// TestEmbeddedSchemasAreFresh -update` rewrites it).
func schema(key string) json.RawMessage {
	s, ok := generatedSchema(key)
	if !ok {
		panic("tools: no schema " + key + " in schemas_gen.go")
	}
	return json.RawMessage(s)
}

// truncatable adds to an output schema the "truncated" marker a result
// cut to its budget carries (see budgeted): clients check structured
// output against the schema.
func truncatable(schema json.RawMessage) json.RawMessage {
	return withProperty(schema, "truncated", truncationSchema)
}

// deriveSchema returns the JSON Schema of T's JSON encoding, then edited.
// A type the library cannot describe is a programming error, found by the
// tests, so it panics. The result keeps to what every client accepts: no
// `type` arrays, which Gemini's function declarations reject, and no bare
// `true` subschemas, which the TypeScript SDK rejects (schema_test.go
// checks both).
func deriveSchema[T any](edit func(s *jsonschema.Schema)) json.RawMessage {
	s, err := jsonschema.For[T](&jsonschema.ForOptions{TypeSchemas: typeSchemas})
	if err != nil {
		panic(fmt.Sprintf("tools: schema of %v: %v", reflect.TypeFor[T](), err))
	}
	notNull(s)
	if s.Type == "object" && s.Properties == nil {
		// An object without fields says so with empty properties, as
		// clients that build forms or function declarations expect.
		s.Properties = map[string]*jsonschema.Schema{}
	}
	if edit != nil {
		edit(s)
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("tools: schema of %v: %v", reflect.TypeFor[T](), err))
	}
	return b
}

// typeSchemas are the schemas of types jsonschema-go cannot infer.
var typeSchemas = map[reflect.Type]*jsonschema.Schema{
	// Raw JSON may be any value; a field of this type needs an edit that
	// describes it (an empty schema would be written as a bare true).
	reflect.TypeFor[json.RawMessage](): {},
	// A request body's schema is itself a JSON Schema, recursive, which
	// inference refuses; to clients it is an object to read.
	reflect.TypeFor[catalog.Schema](): {Type: "object"},
}

// notNull drops the "null" jsonschema-go allows for pointers and slices,
// which makes `type` an array Gemini rejects. The tools treat a null
// argument as an absent one, and never write null where a schema says
// array or object.
func notNull(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if len(s.Types) == 2 && s.Types[0] == "null" {
		s.Type, s.Types = s.Types[1], nil
	}
	notNull(s.Items)
	notNull(s.AdditionalProperties)
	for _, p := range s.Properties {
		notNull(p)
	}
}

// prop returns the schema of s's property name. It panics if there is
// none, as an edit naming a field that was renamed or removed is a bug.
func prop(s *jsonschema.Schema, name string) *jsonschema.Schema {
	p := s.Properties[name]
	if p == nil {
		panic("tools: schema has no property " + name)
	}
	return p
}

// Enums shared by several schemas.
var (
	targetEnum = []any{TargetPlatform, TargetBackend}
	methodEnum = []any{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
)

func whoamiOutput(s *jsonschema.Schema) {
	prop(s, "auth").Enum = []any{"oauth", "platform_api_key"}
}

func doctorOutput(s *jsonschema.Schema) {
	prop(prop(s, "checks").Items, "status").Enum = []any{StatusPass, StatusWarn, StatusFail}
}

func endpointsInput(s *jsonschema.Schema) {
	prop(s, "target").Enum = targetEnum
	prop(s, "method").Enum = methodEnum
	limit := prop(s, "limit")
	limit.Minimum = jsonschema.Ptr(1.0)
	limit.Maximum = jsonschema.Ptr(float64(maxEndpointsLimit))
	limit.Default = json.RawMessage(strconv.Itoa(defaultEndpointsLimit))
}
