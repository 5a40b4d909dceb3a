package apispec

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// problems flattens a validation error into one violation per field at
// fault, under prefix (/body, /query/limit). Messages are built from the
// schema's expectations, never from the value: the value may be a
// password, and jsonschema's own messages quote it.
func problems(prefix string, err error) []Violation {
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Violation{{prefix, "could not be checked"}}
	}
	var out []Violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		ptr := prefix + Pointer(e.InstanceLocation...)
		switch k := e.ErrorKind.(type) {
		case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
			for _, c := range e.Causes {
				walk(c)
			}
			return
		case *kind.AnyOf, *kind.OneOf:
			// A nullable field is "null or the schema": say what the
			// schema wanted, not that no alternative matched.
			if inner := nonNull(e.Causes); inner != nil {
				walk(inner)
				return
			}
			if fields := requiredAlternatives(e.Causes); fields != nil {
				out = append(out, Violation{ptr, "needs one of the fields " + strings.Join(fields, " or ")})
				return
			}
			out = append(out, Violation{ptr, "does not match any of the allowed shapes"})
		case *kind.Required:
			for _, m := range k.Missing {
				out = append(out, Violation{ptr + Pointer(m), "is missing (required)"})
			}
		case *kind.AdditionalProperties:
			for _, p := range k.Properties {
				out = append(out, Violation{ptr, fmt.Sprintf("property %q is unsupported", p)})
			}
		default:
			out = append(out, Violation{ptr, expectation(e.ErrorKind)})
		}
	}
	walk(ve)
	if len(out) == 0 {
		out = append(out, Violation{prefix, "does not match the schema"})
	}
	return out
}

// nonNull is the one cause of a failed anyOf that is not the "null"
// alternative of a nullable schema, or nil.
func nonNull(causes []*jsonschema.ValidationError) *jsonschema.ValidationError {
	if len(causes) != 2 {
		return nil
	}
	for i, c := range causes {
		if t, ok := c.ErrorKind.(*kind.Type); ok && len(t.Want) == 1 && t.Want[0] == "null" {
			return causes[1-i]
		}
	}
	return nil
}

// requiredAlternatives are the fields of an anyOf whose alternatives each
// require one ("domain" or "domains"), or nil.
func requiredAlternatives(causes []*jsonschema.ValidationError) []string {
	var fields []string
	for _, c := range causes {
		for len(c.Causes) == 1 {
			if _, ok := c.ErrorKind.(*kind.Required); ok {
				break
			}
			c = c.Causes[0]
		}
		r, ok := c.ErrorKind.(*kind.Required)
		if !ok {
			return nil
		}
		fields = append(fields, r.Missing...)
	}
	return fields
}

// expectation says what a failed keyword wanted, without the value.
func expectation(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		// "boolean or null", not the library's alphabetical "null or boolean".
		want := slices.Clone(k.Want)
		if i := slices.Index(want, "null"); i >= 0 {
			want = append(slices.Delete(want, i, i+1), "null")
		}
		return "must be of type " + strings.Join(want, " or ")
	case *kind.Enum:
		vals := make([]string, len(k.Want))
		for i, v := range k.Want {
			vals[i] = fmt.Sprint(v)
		}
		return "must be one of: " + strings.Join(vals, ", ")
	case *kind.Const:
		return fmt.Sprintf("must be %v", k.Want)
	case *kind.MinLength:
		return fmt.Sprintf("must be at least %d characters long", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters long", k.Want)
	case *kind.Pattern:
		return "must match the pattern " + k.Want
	case *kind.Format:
		return "must be a valid " + k.Want
	case *kind.Minimum:
		return "must be at least " + k.Want.RatString()
	case *kind.Maximum:
		return "must be at most " + k.Want.RatString()
	case *kind.ExclusiveMinimum:
		return "must be more than " + k.Want.RatString()
	case *kind.ExclusiveMaximum:
		return "must be less than " + k.Want.RatString()
	case *kind.MultipleOf:
		return "must be a multiple of " + k.Want.RatString()
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items", k.Want)
	case *kind.UniqueItems:
		return "must not repeat items"
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %d properties", k.Want)
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %d properties", k.Want)
	case *kind.FalseSchema:
		return "is not allowed"
	case *kind.Not:
		return "is not allowed in this form"
	}
	return "does not match the schema (" + strings.Join(k.KeywordPath(), "/") + ")"
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// Pointer is the JSON pointer (RFC 6901) of a path of keys and indexes:
// Pointer("body", "a/b") is /body/a~1b.
func Pointer(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(pointerEscaper.Replace(p))
	}
	return b.String()
}
