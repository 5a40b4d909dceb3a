package catalog

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Detail is what a first correct call to one operation needs.
type Detail struct {
	Endpoint
	Tags        []string `json:"tags,omitempty"`
	Description string   `json:"description,omitempty"`
	// Parameters are the path and query parameters, path ones first as the
	// spec lists them.
	Parameters []Param `json:"parameters,omitempty" jsonschema:"path and query parameters"`
	// BodyRequired says the operation refuses a call without a body.
	BodyRequired bool `json:"body_required,omitempty"`
	// ContentType is set when the body is not JSON (multipart uploads).
	ContentType string `json:"content_type,omitempty" jsonschema:"set when the body is not JSON"`
	// Body is the request body's schema, $refs resolved and cut below a
	// few levels of nesting (cut branches have Truncated set).
	Body *Schema `json:"body,omitempty" jsonschema:"JSON Schema of the request body, $refs resolved; branches marked truncated are cut"`
	// ResponseStatus is the success status the fields below describe.
	ResponseStatus string `json:"response_status,omitempty"`
	// ResponseFields maps the answer's main fields, as JMESPath-like paths
	// ("id", "data[].id" for the items of a list answer), to JSON types
	// such as "string", "integer|null" or "array<object>".
	ResponseFields map[string]string `json:"response_fields,omitempty" jsonschema:"JMESPath-like field paths of the answer (data[].id) and their types, for api's select"`
}

// Param is one path or query parameter.
type Param struct {
	Name        string `json:"name"`
	In          string `json:"in"` // "path" or "query"
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Enum        []any  `json:"enum,omitempty"`
	Default     any    `json:"default,omitempty"`
	Description string `json:"description,omitempty"`
}

// Schema is a JSON Schema subset describing a request body. Its keys are
// JSON Schema's, so that an agent reads it as it reads any schema.
type Schema struct {
	Type        string             `json:"type,omitempty"`
	Format      string             `json:"format,omitempty"`
	Description string             `json:"description,omitempty"`
	Enum        []any              `json:"enum,omitempty"`
	Default     any                `json:"default,omitempty"`
	Nullable    bool               `json:"nullable,omitempty"`
	Pattern     string             `json:"pattern,omitempty"`
	MinLength   *float64           `json:"minLength,omitempty"`
	MaxLength   *float64           `json:"maxLength,omitempty"`
	Minimum     *float64           `json:"minimum,omitempty"`
	Maximum     *float64           `json:"maximum,omitempty"`
	MinItems    *float64           `json:"minItems,omitempty"`
	MaxItems    *float64           `json:"maxItems,omitempty"`
	Required    []string           `json:"required,omitempty"`
	Properties  map[string]*Schema `json:"properties,omitempty"`
	Items       *Schema            `json:"items,omitempty"`
	// AdditionalProperties is false (no other fields allowed), true (free
	// form, as metadata is) or a *Schema; nil when the spec says nothing.
	AdditionalProperties any       `json:"additionalProperties,omitempty"`
	OneOf                []*Schema `json:"oneOf,omitempty"`
	// Truncated marks a branch cut by the depth limit or a recursive
	// schema: its fields are not shown.
	Truncated bool `json:"truncated,omitempty"`
}

//go:embed details.json.gz
var detailsGzip []byte

// details are decompressed on the first Describe: searches never pay for
// them.
var details = sync.OnceValue(func() []Detail {
	var ds []Detail
	if err := json.Unmarshal(gunzip(detailsGzip), &ds); err != nil {
		panic("catalog: embedded details.json.gz: " + err.Error())
	}
	if len(ds) != len(index().endpoints) {
		panic(fmt.Sprintf("catalog: details.json.gz has %d operations, endpoints.json.gz %d: run go generate", len(ds), len(index().endpoints)))
	}
	return ds
})

// gunzip decompresses embedded data; it panics because the data is built
// by go generate and checked by the package's tests, so a failure is a
// build defect.
func gunzip(data []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		panic("catalog: embedded data: " + err.Error())
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		panic("catalog: embedded data: " + err.Error())
	}
	return raw
}

// ErrNotFound is returned by Describe for an operation the catalog lacks.
var ErrNotFound = errors.New("no such operation in the catalog")

// Describe returns the detail of one operation, named by its operation id
// (case-insensitive) or by method and path. The path may be given the way
// the api tool takes it: "/users", "/v1/users/{user_id}", "/users/user_123",
// "/platform/applications" or, with target "platform", "/applications".
// target may be empty.
func Describe(operationID, target, method, path string) (*Detail, error) {
	i, err := find(operationID, target, method, path)
	if err != nil {
		return nil, err
	}
	d := details()[i]
	return &d, nil
}

func find(operationID, target, method, path string) (int, error) {
	eps := index().endpoints
	if operationID != "" {
		for i := range eps {
			if strings.EqualFold(eps[i].OperationID, operationID) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("operation_id %q: %w", operationID, ErrNotFound)
	}
	if method == "" || path == "" {
		return 0, errors.New("give operation_id, or method and path")
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) > 0 && segs[0] == "v1" {
		segs = segs[1:]
	}
	var candidates [][]string
	switch {
	case len(segs) > 0 && segs[0] == "platform":
		candidates = [][]string{segs}
	case strings.EqualFold(target, "platform"):
		candidates = [][]string{append([]string{"platform"}, segs...)}
	case strings.EqualFold(target, "backend"):
		candidates = [][]string{segs}
	default:
		// The api tool's default target is platform, but a bare path is far
		// more often a Backend one; a Backend path never starts with
		// "platform", so trying both is unambiguous.
		candidates = [][]string{segs, append([]string{"platform"}, segs...)}
	}
	for _, want := range candidates {
		best, bestLiterals := -1, -1
		for i := range eps {
			e := &eps[i]
			if !strings.EqualFold(e.Method, method) {
				continue
			}
			if lit, ok := matchTemplate(e.Path, want); ok && lit > bestLiterals {
				best, bestLiterals = i, lit
			}
		}
		if best >= 0 {
			return best, nil
		}
	}
	return 0, fmt.Errorf("%s %s: %w", strings.ToUpper(method), path, ErrNotFound)
}

// matchTemplate matches path segments against a catalog path such as
// /v1/users/{user_id}. A segment matches a literal equal to it or any
// parameter; the count of literal matches lets /users/count win over
// /users/{user_id}.
func matchTemplate(template string, segs []string) (literals int, ok bool) {
	tsegs := strings.Split(strings.TrimPrefix(template, "/v1/"), "/")
	if len(tsegs) != len(segs) {
		return 0, false
	}
	for k, t := range tsegs {
		switch {
		case t == segs[k]:
			literals++
		case strings.HasPrefix(t, "{"):
		default:
			return 0, false
		}
	}
	return literals, true
}
