// Command gen writes what package apispec checks requests with, from
// Clerk's Backend and Platform OpenAPI specs: each operation's parameters
// and body, and the schemas they use converted to JSON Schema 2020-12,
// without what a request check never reads (answers, descriptions,
// examples), as gzipped JSON. Run it with `go generate ./tools/apispec`
// after updating the specs in tools/catalog/openapi.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

func main() {
	src := flag.String("src", "../catalog/openapi", "directory holding the full specs")
	out := flag.String("out", ".", "output directory")
	flag.Parse()
	for name, file := range map[string]string{"backend": "bapi_2026-05-12.yml", "platform": "platform_beta.yml"} {
		if err := generate(filepath.Join(*src, file), filepath.Join(*out, name+".json.gz")); err != nil {
			log.Fatalf("gen %s: %v", name, err)
		}
	}
}

func generate(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("parse %s: %w", in, err)
	}
	// Answers are never checked here: without them, prune keeps only the
	// schemas requests use.
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		ops, _ := item.(map[string]any)
		for _, op := range ops {
			if o, ok := op.(map[string]any); ok {
				delete(o, "responses")
			}
		}
	}
	stripped := strip(doc, false).(map[string]any)
	prune(stripped)
	comps, _ := stripped["components"].(map[string]any)
	checks, err := build(stripped, comps)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	enc := json.NewEncoder(zw)
	if err := enc.Encode(checks); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// checks is the file apispec embeds: the operations and every schema they
// check against, by name, in JSON Schema 2020-12 (see convert). Each
// schema stands alone and refers to others by name ({"$ref": "User"}), so
// that apispec loads only those a checked operation reaches.
type checks struct {
	Schemas    map[string]any `json:"schemas"`
	Operations []operation    `json:"operations"`
}

// operation, param and body mirror apispec's own types of the same names.
type operation struct {
	ID     string  `json:"id"`
	Method string  `json:"method"`
	Path   string  `json:"path"`
	Params []param `json:"params,omitempty"`
	Body   *body   `json:"body,omitempty"`
}

type param struct {
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required,omitempty"`
	Type     string `json:"type,omitempty"`
	Items    string `json:"items,omitempty"`
	Comma    bool   `json:"comma,omitempty"`
	Schema   string `json:"schema"`
}

type body struct {
	Required bool     `json:"required,omitempty"`
	Media    []string `json:"media"`
	Schema   string   `json:"schema,omitempty"`
}

// build lists the operations of doc in path and method order, with each
// parameter's and JSON body's schema converted and named.
func build(doc, comps map[string]any) (*checks, error) {
	defs := map[string]any{}
	schemas, _ := comps["schemas"].(map[string]any)
	for name, sch := range schemas {
		defs[name] = convert(sch)
	}
	c := &checks{Schemas: defs}
	paths, _ := doc["paths"].(map[string]any)
	for _, path := range sortedKeys(paths) {
		item, _ := paths[path].(map[string]any)
		shared := listOf(item["parameters"])
		for _, method := range methods {
			o, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			id, _ := o["operationId"].(string)
			if id == "" {
				return nil, fmt.Errorf("%s %s has no operationId", method, path)
			}
			op := operation{ID: id, Method: strings.ToUpper(method), Path: path}
			seen := map[string]bool{}
			// The operation's own parameters override the path's.
			for _, raw := range append(listOf(o["parameters"]), shared...) {
				pm, _ := deref(comps, raw).(map[string]any)
				name, _ := pm["name"].(string)
				in, _ := pm["in"].(string)
				if name == "" || seen[in+" "+name] {
					continue
				}
				seen[in+" "+name] = true
				if pm["schema"] == nil {
					return nil, fmt.Errorf("%s: parameter %s has no schema (content is not supported)", id, name)
				}
				if style, _ := pm["style"].(string); style != "" && style != "form" && style != "simple" {
					return nil, fmt.Errorf("%s: parameter %s has style %s, which apispec does not read", id, name, style)
				}
				def := "param." + id + "." + in + "." + name
				defs[def] = convert(pm["schema"])
				required, _ := pm["required"].(bool)
				typ, items := kindOf(comps, pm["schema"])
				explode, set := pm["explode"].(bool)
				op.Params = append(op.Params, param{Name: name, In: in, Required: required, Type: typ, Items: items,
					Comma: typ == "array" && set && !explode, Schema: def})
			}
			if rb, ok := deref(comps, o["requestBody"]).(map[string]any); ok {
				b := &body{}
				b.Required, _ = rb["required"].(bool)
				content, _ := rb["content"].(map[string]any)
				b.Media = sortedKeys(content)
				if media, ok := content["application/json"].(map[string]any); ok && media["schema"] != nil {
					b.Schema = "body." + id
					defs[b.Schema] = convert(media["schema"])
				}
				op.Body = b
			}
			c.Operations = append(c.Operations, op)
		}
	}
	// A name becomes a URL that apispec's loader is asked for: it must
	// come back unchanged.
	for name := range defs {
		if strings.ContainsFunc(name, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("._-", r))
		}) {
			return nil, fmt.Errorf("schema name %q is not URL-safe", name)
		}
	}
	return c, nil
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// convert turns an OpenAPI 3.0 schema into JSON Schema 2020-12: references
// name the component schema, "nullable" becomes a "null" type (or an anyOf
// with null, where allOf, anyOf or oneOf would refuse null anyway), the
// boolean exclusiveMinimum and exclusiveMaximum become numbers, a readOnly
// property is not required of a request, and keywords JSON Schema does not
// have (discriminator, xml) go. Beside a $ref, OpenAPI 3.0 ignores every
// other keyword, and so does the conversion, except nullable: honouring it
// accepts a null that kin-openapi refuses, the lenient side for a check
// that must not refuse what Clerk takes.
func convert(node any) any {
	n, ok := node.(map[string]any)
	if !ok {
		return node
	}
	nullable, _ := n["nullable"].(bool)
	if ref, ok := n["$ref"].(string); ok {
		out := map[string]any{"$ref": strings.TrimPrefix(ref, "#/components/schemas/")}
		if nullable {
			return map[string]any{"anyOf": []any{map[string]any{"type": "null"}, out}}
		}
		return out
	}
	out := map[string]any{}
	for k, v := range n {
		switch k {
		case "nullable", "discriminator", "xml", "exclusiveMinimum", "exclusiveMaximum":
		case "properties":
			props := map[string]any{}
			for name, p := range v.(map[string]any) {
				props[name] = convert(p)
			}
			out[k] = props
		case "items", "not", "additionalProperties":
			out[k] = convert(v)
		case "allOf", "anyOf", "oneOf":
			var list []any
			for _, s := range v.([]any) {
				list = append(list, convert(s))
			}
			out[k] = list
		default:
			out[k] = v
		}
	}
	for _, b := range []struct{ flag, bound string }{{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}} {
		if ex, _ := n[b.flag].(bool); ex && n[b.bound] != nil {
			out[b.flag] = n[b.bound]
			delete(out, b.bound)
		}
	}
	if req, ok := out["required"].([]any); ok {
		props, _ := n["properties"].(map[string]any)
		kept := []any{}
		for _, r := range req {
			name, _ := r.(string)
			if p, _ := props[name].(map[string]any); p == nil || p["readOnly"] != true {
				kept = append(kept, r)
			}
		}
		out["required"] = kept
	}
	if !nullable {
		return out
	}
	_, all := out["allOf"]
	_, any1 := out["anyOf"]
	_, one := out["oneOf"]
	if t, ok := out["type"].(string); ok && !all && !any1 && !one {
		out["type"] = []any{t, "null"}
		if enum, ok := out["enum"].([]any); ok {
			out["enum"] = append(enum, nil)
		}
		return out
	}
	return map[string]any{"anyOf": []any{map[string]any{"type": "null"}, out}}
}

// kindOf is the JSON type a parameter's schema takes, and its items' type
// for an array, following references: a query string is read as that
// type before it is checked.
func kindOf(comps map[string]any, sch any) (typ, items string) {
	m, _ := deref(comps, sch).(map[string]any)
	typ, _ = m["type"].(string)
	if typ == "array" {
		it, _ := deref(comps, m["items"]).(map[string]any)
		items, _ = it["type"].(string)
	}
	return typ, items
}

// deref follows a local reference into the components, once.
func deref(comps map[string]any, node any) any {
	if m, ok := node.(map[string]any); ok {
		if ref, ok := m["$ref"].(string); ok {
			return resolve(comps, ref)
		}
	}
	return node
}

func listOf(v any) []any {
	l, _ := v.([]any)
	return l
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dropped keywords never matter to a request check.
var dropped = map[string]bool{
	"description": true, "summary": true, "example": true, "examples": true,
	"externalDocs": true, "title": true, "x-speakeasy-name-override": true,
	"x-speakeasy-group": true, "x-speakeasy-ignore": true, "x-code-samples": true,
}

// nameMaps are keywords whose members are names, not keywords: a property
// called "description" must survive.
var nameMaps = map[string]bool{
	"properties": true, "paths": true, "schemas": true, "parameters": true,
	"requestBodies": true, "content": true, "responses": true, "headers": true,
	"encoding": true, "securitySchemes": true, "variables": true, "callbacks": true,
}

func strip(node any, names bool) any {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			switch {
			case names:
				n[k] = strip(v, false)
			case dropped[k] || strings.HasPrefix(k, "x-"):
				delete(n, k)
			case k == "mapping" || k == "enum" || k == "default":
				// values, not schemas
			default:
				n[k] = strip(v, nameMaps[k])
			}
		}
		return n
	case []any:
		for i, v := range n {
			n[i] = strip(v, false)
		}
		return n
	}
	return node
}

// prune drops components that no path reaches through $ref.
func prune(doc map[string]any) {
	comps, _ := doc["components"].(map[string]any)
	if comps == nil {
		return
	}
	delete(comps, "responses")
	delete(comps, "examples")
	delete(comps, "securitySchemes")
	delete(comps, "headers")
	reached := map[string]bool{}
	var walk func(any)
	walk = func(node any) {
		switch n := node.(type) {
		case map[string]any:
			for k, v := range n {
				if ref, ok := v.(string); ok && k == "$ref" {
					if reached[ref] {
						continue
					}
					reached[ref] = true
					if target := resolve(comps, ref); target != nil {
						walk(target)
					}
					continue
				}
				walk(v)
			}
		case []any:
			for _, v := range n {
				walk(v)
			}
		}
	}
	walk(doc["paths"])
	for kind, group := range comps {
		members, _ := group.(map[string]any)
		for name := range members {
			if !reached["#/components/"+kind+"/"+name] {
				delete(members, name)
			}
		}
	}
}

func resolve(comps map[string]any, ref string) any {
	parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
	if len(parts) != 2 {
		return nil
	}
	group, _ := comps[parts[0]].(map[string]any)
	return group[parts[1]]
}
