package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/tools/apispec"
)

// specCheck is the result of checking a request against Clerk's OpenAPI
// spec of its target, before anything is sent.
type specCheck struct {
	// Operation is the spec's operationId; empty when the spec does not
	// know the operation, which is then sent unchecked (the API moves
	// faster than its documents).
	Operation  string
	Violations []apispec.Violation
	More       int // violations beyond those listed
}

// checkSpec checks r's path parameters, query and body against the
// embedded spec (tools/apispec). A spec that fails to load checks
// nothing: it is embedded, and its tests would have failed.
func checkSpec(ctx context.Context, r *apiRequest) specCheck {
	load := apispec.Platform
	if r.target == TargetBackend {
		load = apispec.Backend
	}
	spec, err := load()
	if err != nil {
		return specCheck{}
	}
	// The specs write paths without the /v1 every request carries.
	specPath := strings.TrimPrefix(r.path, "/v1")
	op, _, ok := spec.Find(r.method, specPath)
	if !ok {
		return specCheck{}
	}
	res := specCheck{Operation: op.ID}
	err = spec.CheckRequest(ctx, apispec.Request{Method: r.method, Path: specPath, Query: r.query, Body: r.body})
	var ve *apispec.ValidationError
	if errors.As(err, &ve) {
		res.Violations, res.More = ve.Violations, ve.More
	}
	return res
}

// err is the invalid_input error for a request the spec refuses, naming
// each field by its JSON pointer (/query/limit, /body/email_address) and
// what was expected; nil when the request passes.
func (c specCheck) err() error {
	if len(c.Violations) == 0 {
		return nil
	}
	ve := apispec.ValidationError{Operation: c.Operation, Violations: c.Violations, More: c.More}
	e := envelope.InvalidInput(fmt.Sprintf("The request does not match Clerk's API spec for %s, so it was not sent: %s.",
		c.Operation, ve.Summary()))
	e.Remedy = fmt.Sprintf("Fix the fields named by the JSON pointers and call again; api_endpoints with operation_id %q shows the parameters and the body schema.", c.Operation)
	return e
}
