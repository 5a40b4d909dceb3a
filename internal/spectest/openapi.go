package spectest

// The kin-openapi side of the checks: the full specs, requests and
// answers. clerk-mcp itself checks requests with package apispec; kin-openapi
// stays out of the binary (its YAML and init cost a tenth of a cold start)
// and serves here as the independent judge of the fake and of apispec.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/clerk-mcp/clerk-mcp/tools/apispec"
)

// Spec is one parsed OpenAPI document with its operations indexed by path.
type Spec struct {
	doc    *openapi3.T
	ops    []*Operation
	router apispec.Router[*Operation]
}

// Operation is one documented operation.
type Operation struct {
	// ID is the spec's operationId.
	ID string
	// Method is upper case; Template is the spec's path, such as
	// /users/{user_id}.
	Method, Template string

	route     *routers.Route
	multipart bool
}

// Parse loads an OpenAPI 3.0 document (YAML or JSON) without following
// external references.
func Parse(data []byte) (*Spec, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	var doc *openapi3.T
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		// JSON (the embedded copies) is decoded by encoding/json: the
		// loader would read it as YAML, which costs 100 ms and 28 MB for
		// the Backend spec instead of a few.
		doc = &openapi3.T{}
		if err := json.Unmarshal(trimmed, doc); err != nil {
			return nil, fmt.Errorf("decode OpenAPI document: %w", err)
		}
		if err := loader.ResolveRefsIn(doc, nil); err != nil {
			return nil, fmt.Errorf("resolve OpenAPI references: %w", err)
		}
	} else {
		var err error
		if doc, err = loader.LoadFromData(data); err != nil {
			return nil, fmt.Errorf("load OpenAPI document: %w", err)
		}
	}
	s := &Spec{doc: doc}
	for template, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o := &Operation{
				ID:       op.OperationID,
				Method:   strings.ToUpper(method),
				Template: template,
				route:    &routers.Route{Spec: doc, Path: template, PathItem: item, Method: strings.ToUpper(method), Operation: op},
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				_, o.multipart = op.RequestBody.Value.Content["multipart/form-data"]
			}
			s.ops = append(s.ops, o)
		}
	}
	// Deterministic order, for the router's ties.
	sort.Slice(s.ops, func(i, j int) bool {
		a, b := s.ops[i], s.ops[j]
		if a.Template != b.Template {
			return a.Template < b.Template
		}
		return a.Method < b.Method
	})
	for _, o := range s.ops {
		s.router.Add(o.Method, o.Template, o)
	}
	return s, nil
}

// Operations returns every operation of the document.
func (s *Spec) Operations() []*Operation { return slices.Clone(s.ops) }

// Find returns the operation for method and a concrete path as the spec
// writes it, and the values of its path parameters; apispec's router
// decides, so both judges agree on which operation a path is.
func (s *Spec) Find(method, path string) (*Operation, map[string]string, bool) {
	return s.router.Find(method, path)
}

// CheckRequest checks path and query parameters and the body of req
// against its operation. It returns nil when the operation is unknown to
// the spec (the API moves faster than its documents), a *ValidationError
// for a violation. Credentials are not checked.
func (s *Spec) CheckRequest(ctx context.Context, req apispec.Request) error {
	o, params, ok := s.Find(req.Method, req.Path)
	if !ok {
		return nil
	}
	input, err := o.input(req, params)
	if err != nil {
		return err
	}
	return violations(o, openapi3filter.ValidateRequest(ctx, input))
}

func (o *Operation) input(req apispec.Request, params map[string]string) (*openapi3filter.RequestValidationInput, error) {
	// The check runs on its own request: kin-openapi may rewrite what it
	// validates, and the request that is sent must stay as the caller made it.
	u := &url.URL{Scheme: "https", Host: "api.clerk.com", Path: req.Path, RawQuery: req.Query.Encode()}
	hr, err := http.NewRequest(req.Method, u.String(), bytes.NewReader(req.Body))
	if err != nil {
		return nil, fmt.Errorf("build request to check: %w", err)
	}
	ct := req.ContentType
	if ct == "" && len(req.Body) > 0 {
		ct = "application/json"
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if len(req.Body) == 0 {
		hr.Body = http.NoBody
	}
	return &openapi3filter.RequestValidationInput{
		Request:    hr,
		PathParams: params,
		Route:      o.route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
			SkipSettingDefaults: true,
			MultiError:          true,
			// SchemaError.Error() would otherwise quote the offending
			// value, which may be a password; messages are built from the
			// pointer and the reason instead.
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
			// A file upload's parts are not JSON; the API judges them.
			ExcludeRequestBody: o.multipart,
		},
	}, nil
}

// Response is an answer to check with CheckResponse.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// CheckResponse checks an answer (status, content type, body schema) to
// req against the operation. It reports an undocumented status as a
// violation. It returns nil when the operation is unknown.
func (s *Spec) CheckResponse(ctx context.Context, req apispec.Request, resp Response) error {
	o, params, ok := s.Find(req.Method, req.Path)
	if !ok {
		return nil
	}
	input, err := o.input(req, params)
	if err != nil {
		return err
	}
	input.Options.IncludeResponseStatus = true
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 resp.Status,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(resp.Body)),
		Options:                input.Options,
	})
	return violations(o, err)
}

// violations flattens kin-openapi's nested errors (MultiError of
// RequestError of MultiError of SchemaError) into pointers and reasons.
func violations(o *Operation, err error) error {
	if err == nil {
		return nil
	}
	var out []apispec.Violation
	var walk func(prefix string, err error)
	walk = func(prefix string, err error) {
		// Type switches, not errors.As: As would see through a
		// RequestError to the MultiError inside it and lose the field.
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, inner := range e {
				walk(prefix, inner)
			}
		case *openapi3filter.RequestError:
			p := prefix
			switch {
			case e.Parameter != nil:
				p = apispec.Pointer(e.Parameter.In, e.Parameter.Name)
			case e.RequestBody != nil:
				p = "/body"
			}
			switch {
			case e.Err == nil:
				out = append(out, apispec.Violation{Pointer: p, Problem: e.Reason})
			case isSchemaError(e.Err):
				walk(p, e.Err)
			case e.Parameter != nil:
				// A parse error quotes the value; say what was expected.
				out = append(out, apispec.Violation{Pointer: p, Problem: "must be " + paramType(e.Parameter)})
			default:
				out = append(out, apispec.Violation{Pointer: p, Problem: join(e.Reason, e.Err)})
			}
		case *openapi3filter.ResponseError:
			if isSchemaError(e.Err) {
				walk("/response", e.Err)
			} else {
				out = append(out, apispec.Violation{Pointer: "/response", Problem: join(e.Reason, e.Err)})
			}
		case *openapi3.SchemaError:
			out = append(out, apispec.Violation{Pointer: prefix + apispec.Pointer(e.JSONPointer()...), Problem: schemaProblem(e)})
		default:
			var se *openapi3.SchemaError
			if errors.As(err, &se) {
				walk(prefix, se)
				return
			}
			out = append(out, apispec.Violation{Pointer: prefix, Problem: err.Error()})
		}
	}
	walk("", err)
	return apispec.NewValidationError(o.ID, out)
}

func isSchemaError(err error) bool {
	var multi openapi3.MultiError
	var se *openapi3.SchemaError
	return errors.As(err, &multi) || errors.As(err, &se)
}

func paramType(p *openapi3.Parameter) string {
	if p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type != nil && len(*p.Schema.Value.Type) > 0 {
		return "a valid " + strings.Join(*p.Schema.Value.Type, " or ")
	}
	return "a valid value"
}

// join is reason, then the inner error where it adds something.
func join(reason string, inner error) string {
	if inner == nil {
		return reason
	}
	msg := inner.Error()
	if reason == "" || strings.Contains(reason, msg) {
		return cmp.Or(reason, msg)
	}
	return reason + ": " + msg
}

// schemaProblem says what the schema expected, from the reason and the
// schema, without the offending value.
func schemaProblem(se *openapi3.SchemaError) string {
	msg := se.Reason
	if se.Schema != nil {
		switch se.SchemaField {
		case "enum":
			vals := make([]string, 0, len(se.Schema.Enum))
			for _, v := range se.Schema.Enum {
				vals = append(vals, fmt.Sprint(v))
			}
			msg = "must be one of: " + strings.Join(vals, ", ")
		case "type":
			if t := se.Schema.Type; t != nil && len(*t) > 0 {
				msg = "must be of type " + strings.Join(*t, " or ")
			}
		}
	}
	return msg
}
