// Package apispec checks the requests clerk-mcp sends against Clerk's
// OpenAPI specs, so that a malformed call is refused before it reaches
// Clerk, with a JSON pointer to each field at fault and what was expected.
//
// What it checks with is generated from the vendored Backend and Platform
// specs by `go generate` (see gen): each operation's parameters and body,
// and their schemas converted to JSON Schema 2020-12, which
// github.com/santhosh-tekuri/jsonschema validates (the MCP server library
// links it already). A schema is compiled the first time a request of its
// operation is checked, so a server that never checks a request never
// pays for it, and nothing of this runs at start.
//
// The test suite holds the fake Clerk to the full specs with kin-openapi
// (internal/spectest), which also serves as an independent oracle for this
// package: a differential test there checks that both agree.
package apispec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Spec is the request checks of one API.
type Spec struct {
	base     string                     // the schemas' base URL for the compiler: mem:///backend/
	schemas  map[string]json.RawMessage // by name, each decoded when first compiled
	ops      []*Operation
	router   Router[*Operation]
	mu       sync.Mutex // guards compiler and compiled
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

// Operation is one documented operation.
type Operation struct {
	// ID is the spec's operationId.
	ID string `json:"id"`
	// Method is upper case; Template is the spec's path, such as
	// /users/{user_id}.
	Method   string `json:"method"`
	Template string `json:"path"`

	Params []Param `json:"params,omitempty"`
	Body   *Body   `json:"body,omitempty"`
}

// Param is one parameter of an operation.
type Param struct {
	Name     string `json:"name"`
	In       string `json:"in"` // path, query or header
	Required bool   `json:"required,omitempty"`
	// Type is the JSON type the value is read as (string when empty), and
	// Items that of an array's items.
	Type  string `json:"type,omitempty"`
	Items string `json:"items,omitempty"`
	// Comma: an array sent as one comma-separated value (explode: false).
	Comma bool `json:"comma,omitempty"`
	// Schema names the parameter's schema.
	Schema string `json:"schema"`
}

// Body is an operation's request body.
type Body struct {
	Required bool     `json:"required,omitempty"`
	Media    []string `json:"media"` // the content types it accepts
	// Schema names the JSON body's schema; empty when the operation takes
	// no JSON (a file upload).
	Schema string `json:"schema,omitempty"`
}

// parse reads a document written by gen.
func parse(name string, data []byte) (*Spec, error) {
	var doc struct {
		Schemas    map[string]json.RawMessage `json:"schemas"`
		Operations []*Operation               `json:"operations"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode request checks: %w", err)
	}
	s := &Spec{base: "mem:///" + name + "/", schemas: doc.Schemas, ops: doc.Operations, compiled: map[string]*jsonschema.Schema{}}
	for _, o := range s.ops {
		s.router.Add(o.Method, o.Template, o)
	}
	return s, nil
}

// Operations returns every operation of the spec.
func (s *Spec) Operations() []*Operation { return slices.Clone(s.ops) }

// Find returns the operation for method and a concrete path as the spec
// writes it (for the Backend and Platform APIs: without /v1), and the
// values of its path parameters. A literal segment beats a parameter.
func (s *Spec) Find(method, path string) (*Operation, map[string]string, bool) {
	return s.router.Find(method, path)
}

// Load gives the compiler the schema a URL names (jsonschema.URLLoader):
// only the schemas an operation reaches are decoded and compiled, not the
// hundreds of the whole API.
func (s *Spec) Load(u string) (any, error) {
	raw, ok := s.schemas[strings.TrimPrefix(u, s.base)]
	if !ok || !strings.HasPrefix(u, s.base) {
		return nil, fmt.Errorf("no schema %s", u)
	}
	// jsonschema's own decoder keeps numbers exact (json.Number).
	return jsonschema.UnmarshalJSON(bytes.NewReader(raw))
}

// schemaFor compiles (once) the schema named name.
func (s *Spec) schemaFor(name string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.compiled[name]; ok {
		return sch, nil
	}
	if s.compiler == nil {
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		// Dates are checked, as kin-openapi checks them; what makes an
		// email or a URI valid is Clerk's call, not a stricter library's.
		c.AssertFormat()
		for _, name := range []string{"email", "uri", "idn-email", "iri"} {
			c.RegisterFormat(&jsonschema.Format{Name: name, Validate: func(any) error { return nil }})
		}
		c.UseLoader(s)
		s.compiler = c
	}
	sch, err := s.compiler.Compile(s.base + name)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", name, err)
	}
	s.compiled[name] = sch
	return sch, nil
}

// Violation is one way a request breaks the spec.
type Violation struct {
	// Pointer is a JSON pointer to the offending field: /body/email_address,
	// /query/limit, /path/user_id, or /body for the body as a whole.
	Pointer string `json:"pointer"`
	// Problem says what was expected, never quoting the value sent.
	Problem string `json:"problem"`
}

// ValidationError lists the violations of one request.
type ValidationError struct {
	Operation  string
	Violations []Violation
}

// NewValidationError returns the violations of a request to operation,
// each once, as a *ValidationError; nil when there are none.
func NewValidationError(operation string, vs []Violation) error {
	if len(vs) == 0 {
		return nil
	}
	seen := map[Violation]bool{}
	var out []Violation
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return &ValidationError{Operation: operation, Violations: out}
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Pointer + ": " + v.Problem
	}
	return fmt.Sprintf("does not match %s: %s", e.Operation, strings.Join(parts, "; "))
}

// Request is what CheckRequest looks at.
type Request struct {
	Method string
	// Path is the concrete path as the spec writes it (no /v1 prefix).
	Path  string
	Query url.Values
	// Body and ContentType describe the body; an empty ContentType with a
	// non-empty Body means JSON.
	Body        []byte
	ContentType string
}

// CheckRequest checks path and query parameters and the body of req
// against its operation. It returns nil when the operation is unknown to
// the spec (the API moves faster than its documents), a *ValidationError
// for a violation. Headers and credentials are not checked: clerk-mcp
// sets them itself.
func (s *Spec) CheckRequest(ctx context.Context, req Request) error {
	o, params, ok := s.Find(req.Method, req.Path)
	if !ok {
		return nil
	}
	var out []Violation
	for _, p := range o.Params {
		var raw []string
		switch p.In {
		case "path":
			if v, ok := params[p.Name]; ok {
				raw = []string{v}
			}
		case "query":
			raw = req.Query[p.Name]
		default:
			continue
		}
		vs, err := s.checkParam(p, raw)
		if err != nil {
			return err
		}
		out = append(out, vs...)
	}
	vs, err := s.checkBody(o, req)
	if err != nil {
		return err
	}
	out = append(out, vs...)
	return NewValidationError(o.ID, out)
}

// checkParam reads a parameter's strings as its type and checks them
// against its schema.
func (s *Spec) checkParam(p Param, raw []string) ([]Violation, error) {
	ptr := Pointer(p.In, p.Name)
	if len(raw) == 0 {
		if p.Required {
			return []Violation{{ptr, "is required"}}, nil
		}
		return nil, nil
	}
	var value any
	if p.Type == "array" {
		if p.Comma {
			raw = strings.Split(strings.Join(raw, ","), ",")
		}
		items := make([]any, len(raw))
		for i, r := range raw {
			v, ok := scalar(p.Items, r)
			if !ok {
				return []Violation{{ptr + "/" + strconv.Itoa(i), "must be a valid " + p.Items}}, nil
			}
			items[i] = v
		}
		value = items
	} else {
		v, ok := scalar(p.Type, raw[0])
		if !ok {
			return []Violation{{ptr, "must be a valid " + p.Type}}, nil
		}
		value = v
	}
	sch, err := s.schemaFor(p.Schema)
	if err != nil {
		return nil, err
	}
	return problems(ptr, sch.Validate(value)), nil
}

// scalar reads a parameter's string as typ; strings and types a query
// cannot carry (objects) are left as strings.
func scalar(typ, raw string) (any, bool) {
	switch typ {
	case "integer":
		if _, err := strconv.ParseInt(raw, 10, 64); err != nil {
			return nil, false
		}
		return json.Number(raw), true
	case "number":
		if _, err := strconv.ParseFloat(raw, 64); err != nil {
			return nil, false
		}
		return json.Number(raw), true
	case "boolean":
		b, err := strconv.ParseBool(raw)
		if err != nil || (raw != "true" && raw != "false") {
			return nil, false
		}
		return b, true
	}
	return raw, true
}

// checkBody checks a JSON body against the operation's schema.
func (s *Spec) checkBody(o *Operation, req Request) ([]Violation, error) {
	if o.Body == nil {
		return nil, nil
	}
	if len(req.Body) == 0 {
		if o.Body.Required {
			return []Violation{{"/body", "a request body is required"}}, nil
		}
		return nil, nil
	}
	ct := req.ContentType
	if ct == "" {
		ct = "application/json"
	}
	if mt, _, _ := strings.Cut(ct, ";"); !slices.Contains(o.Body.Media, strings.TrimSpace(mt)) {
		return []Violation{{"/body", fmt.Sprintf("content type %s is not accepted (want %s)", mt, strings.Join(o.Body.Media, " or "))}}, nil
	}
	if o.Body.Schema == "" || !strings.HasPrefix(ct, "application/json") {
		return nil, nil // a file upload's parts are not JSON; the API judges them
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(req.Body))
	if err != nil {
		return []Violation{{"/body", "could not decode the body as JSON"}}, nil
	}
	sch, err := s.schemaFor(o.Body.Schema)
	if err != nil {
		return nil, err
	}
	return problems("/body", sch.Validate(value)), nil
}
