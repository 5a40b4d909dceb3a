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
	"math/big"
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
		// The formats kin-openapi checks are checked (dates, IP
		// addresses), and integer sizes; what makes an email, a URI or a
		// hostname valid is Clerk's call, not a stricter library's.
		c.AssertFormat()
		for _, name := range lenientFormats {
			c.RegisterFormat(&jsonschema.Format{Name: name, Validate: func(any) error { return nil }})
		}
		c.RegisterFormat(&jsonschema.Format{Name: "int32", Validate: intOfSize(32)})
		c.RegisterFormat(&jsonschema.Format{Name: "int64", Validate: intOfSize(64)})
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

// lenientFormats are the formats jsonschema knows that the request check
// leaves to Clerk.
var lenientFormats = []string{"email", "idn-email", "hostname", "idn-hostname", "uri", "iri", "uri-reference",
	"iri-reference", "uri-template", "uuid", "json-pointer", "relative-json-pointer", "duration", "period", "time", "semver"}

// intOfSize checks that an integer fits in bits bits (formats int32 and
// int64); other values are the type keyword's business.
func intOfSize(bits uint) func(any) error {
	return func(v any) error {
		n, ok := v.(json.Number)
		if !ok {
			return nil
		}
		r, ok := new(big.Rat).SetString(string(n)) // ordinary: checked before validation
		if !ok || !r.IsInt() {
			return nil
		}
		limit := new(big.Int).Lsh(big.NewInt(1), bits-1)
		if i := r.Num(); i.Cmp(limit) >= 0 || i.Cmp(new(big.Int).Neg(limit)) < 0 {
			return fmt.Errorf("out of range for int%d", bits)
		}
		return nil
	}
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
	More       int // violations found beyond those listed
}

// maxViolations is how many violations a ValidationError lists.
const maxViolations = 20

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
	e := &ValidationError{Operation: operation, Violations: out}
	if len(out) > maxViolations {
		// Enough to act on; a million wrong items need not be listed.
		e.Violations, e.More = out[:maxViolations], len(out)-maxViolations
	}
	return e
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("does not match %s: %s", e.Operation, e.Summary())
}

// Summary lists the violations as "pointer: problem", separated by "; ",
// ending with how many more there were.
func (e *ValidationError) Summary() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Pointer + ": " + v.Problem
	}
	if e.More > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", e.More))
	}
	return strings.Join(parts, "; ")
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
func (s *Spec) CheckRequest(ctx context.Context, req Request) (err error) {
	defer func() {
		// The validator is a library: a value it cannot handle is a
		// request left unchecked, not a crashed tool call.
		if r := recover(); r != nil {
			err = fmt.Errorf("check request: validator failed: %v", r)
		}
	}()
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

// scalar reads a parameter's string as typ, as kin-openapi reads it;
// strings and types a query cannot carry (objects) are left as strings.
// A number must be written as JSON writes one, of ordinary size: "NaN",
// "Inf", "0x1p3" or "1e999999" are no numbers Clerk takes, and the last
// would cost the validator seconds.
func scalar(typ, raw string) (any, bool) {
	switch typ {
	case "integer":
		if _, err := strconv.ParseInt(raw, 10, 64); err != nil {
			return nil, false
		}
		return json.Number(raw), true
	case "number":
		// Any decimal ParseFloat reads (+5, 01, .5, 5.), as kin-openapi
		// reads it, but not NaN, Inf, hex or digit separators; written
		// back as a JSON number.
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || strings.ContainsAny(raw, "xXnNiI_") {
			return nil, false
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
	case "boolean":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, false
		}
		return b, true
	}
	return raw, true
}

// ordinaryNumber reports whether a JSON number has an exponent within
// float64's range and at most a thousand characters. Arbitrary-precision
// arithmetic on 1e999999 takes the validator tens of milliseconds a
// number; long digit strings cost it little.
func ordinaryNumber(n string) bool {
	if len(n) > 1000 {
		return false
	}
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(n[i+1:], "+"))
		return err == nil && -324 <= exp && exp <= 308
	}
	return true
}

// extraordinary lists the numbers of a decoded body that are not ordinary
// (see ordinaryNumber), by pointer under prefix.
func extraordinary(prefix string, v any) []Violation {
	switch v := v.(type) {
	case json.Number:
		if !ordinaryNumber(string(v)) {
			return []Violation{{prefix, "must be a number with an exponent within ±308 and at most 1,000 characters"}}
		}
	case map[string]any:
		var out []Violation
		for k, x := range v {
			out = append(out, extraordinary(prefix+Pointer(k), x)...)
		}
		slices.SortFunc(out, func(a, b Violation) int { return strings.Compare(a.Pointer, b.Pointer) })
		return out
	case []any:
		var out []Violation
		for i, x := range v {
			out = append(out, extraordinary(prefix+Pointer(strconv.Itoa(i)), x)...)
		}
		return out
	}
	return nil
}

// checkBody checks a JSON body against the operation's schema.
func (s *Spec) checkBody(o *Operation, req Request) ([]Violation, error) {
	if o.Body == nil {
		return nil, nil
	}
	if len(req.Body) == 0 && !o.Body.Required {
		return nil, nil
	}
	if o.Body.Schema == "" {
		// A file upload (multipart/form-data): the api tool sends JSON
		// only, and Clerk would refuse it.
		return []Violation{{"/body", fmt.Sprintf("this operation takes %s, which the api tool cannot send (it sends JSON)", strings.Join(o.Body.Media, " or "))}}, nil
	}
	if len(req.Body) == 0 {
		return []Violation{{"/body", "a request body is required"}}, nil
	}
	ct := req.ContentType
	if ct == "" {
		ct = "application/json"
	}
	if mt, _, _ := strings.Cut(ct, ";"); !slices.Contains(o.Body.Media, strings.TrimSpace(mt)) {
		return []Violation{{"/body", fmt.Sprintf("content type %s is not accepted (want %s)", mt, strings.Join(o.Body.Media, " or "))}}, nil
	}
	if !strings.HasPrefix(ct, "application/json") {
		return nil, nil // another body the spec allows besides JSON: the API judges it
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(req.Body))
	if err != nil {
		return []Violation{{"/body", "could not decode the body as JSON"}}, nil
	}
	if vs := extraordinary("/body", value); len(vs) > 0 {
		return vs, nil
	}
	sch, err := s.schemaFor(o.Body.Schema)
	if err != nil {
		return nil, err
	}
	return problems("/body", sch.Validate(value)), nil
}
