package tools

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/clerk-mcp/clerk-mcp/tools/catalog"
)

// schemaFor returns the JSON Schema of T's JSON encoding, derived from T by
// jsonschema-go, so that a tool's schemas cannot drift from the types its
// handler decodes and encodes. Field descriptions come from `jsonschema`
// struct tags. edit, if not nil, then says what Go types cannot: enums,
// defaults, bounds, and the shape of fields that hold one of several JSON
// types. A type the library cannot describe is a programming error, found
// by the tests the first time the tools are built, so schemaFor panics.
//
// The result keeps to what every client accepts: no `type` arrays, which
// Gemini's function declarations reject, and no bare `true` subschemas,
// which the TypeScript SDK rejects (schema_test.go checks both).
func schemaFor[T any](edit func(s *jsonschema.Schema)) json.RawMessage {
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
