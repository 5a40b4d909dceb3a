// Command gen builds the endpoint catalog embedded in clerk-mcp from
// Clerk's OpenAPI specs (MIT, see ../openapi/LICENSE). Run it with
// `go generate ./tools/catalog`.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/tools/catalog"
	"go.yaml.in/yaml/v3"
)

type spec struct {
	Paths map[string]map[string]yaml.Node `yaml:"paths"`
}

type operation struct {
	OperationID string      `yaml:"operationId"`
	Summary     string      `yaml:"summary"`
	Description string      `yaml:"description"`
	Tags        []string    `yaml:"tags"`
	Deprecated  bool        `yaml:"deprecated"`
	RequestBody any         `yaml:"requestBody"`
	Parameters  []parameter `yaml:"parameters"`
}

type parameter struct {
	Name string `yaml:"name"`
	In   string `yaml:"in"`
	Ref  string `yaml:"$ref"`
}

var methods = []string{"get", "post", "put", "patch", "delete"}

func main() {
	backend := flag.String("backend", "openapi/bapi_2026-05-12.yml", "Backend API spec")
	platform := flag.String("platform", "openapi/platform_beta.yml", "Platform API spec")
	out := flag.String("out", "endpoints.json", "output file")
	flag.Parse()
	var all []catalog.Endpoint
	for _, src := range []struct{ target, file string }{{"backend", *backend}, {"platform", *platform}} {
		eps, err := load(src.target, src.file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		all = append(all, eps...)
	}
	slices.SortFunc(all, func(a, b catalog.Endpoint) int {
		return strings.Compare(a.Target+" "+a.Path+" "+a.Method, b.Target+" "+b.Path+" "+b.Method)
	})
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i, e := range all {
		line, _ := json.Marshal(e)
		buf.Write(line)
		if i < len(all)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("]\n")
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func load(target, file string) ([]catalog.Endpoint, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var s spec
	if err := yaml.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var eps []catalog.Endpoint
	for path, item := range s.Paths {
		for _, m := range methods {
			node, ok := item[m]
			if !ok {
				continue
			}
			var op operation
			if err := node.Decode(&op); err != nil {
				return nil, fmt.Errorf("%s %s %s: %w", file, m, path, err)
			}
			eps = append(eps, catalog.Endpoint{
				Target:      target,
				Method:      strings.ToUpper(m),
				Path:        "/v1" + path,
				Summary:     strings.TrimSpace(op.Summary),
				OperationID: op.OperationID,
				PathParams:  pathParams(path),
				HasBody:     op.RequestBody != nil,
				Tags:        op.Tags,
				Description: firstSentence(op.Description),
				Deprecated:  op.Deprecated,
			})
		}
	}
	return eps, nil
}

// pathParams lists the {name} segments of path in order.
func pathParams(path string) []string {
	params := []string{}
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			params = append(params, seg[1:len(seg)-1])
		}
	}
	return params
}

// firstSentence keeps a description short: its first sentence, at most 200
// characters.
func firstSentence(d string) string {
	d = strings.Join(strings.Fields(d), " ")
	if i := strings.Index(d, ". "); i >= 0 {
		d = d[:i+1]
	}
	if len(d) > 200 {
		d = d[:200]
		if i := strings.LastIndex(d, " "); i > 0 {
			d = d[:i]
		}
		d += "…"
	}
	return d
}
