// Command gen writes the request-check copies of Clerk's Backend and
// Platform OpenAPI specs that package apispec embeds: each spec without
// what a request check never reads (answers, descriptions, examples,
// security, tags) and without the component schemas only answers used,
// as gzipped JSON. Run it with `go generate ./tools/apispec` after
// updating the specs in tools/catalog/openapi.
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
	delete(doc, "security")
	delete(doc, "tags")
	delete(doc, "x-speakeasy-retries")
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			o, ok := op.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			// OpenAPI 3.0 requires a responses object.
			o["responses"] = map[string]any{"default": map[string]any{"description": ""}}
			delete(o, "security")
			delete(o, "tags")
		}
	}
	stripped := strip(doc, false)
	prune(stripped.(map[string]any))
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	enc := json.NewEncoder(zw)
	if err := enc.Encode(stripped); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
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
