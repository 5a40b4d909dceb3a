// Command gen builds the endpoint catalog embedded in clerk-mcp from
// Clerk's OpenAPI specs (MIT, see ../openapi/LICENSE). Run it with
// `go generate ./tools/catalog`.
//
// It writes two gzipped JSON files. endpoints.json.gz is what search needs:
// one line per operation with the words it is found by, and the tags'
// descriptions. details.json.gz is what a first correct call needs: each
// operation's parameters, request body schema ($refs resolved,
// depth-limited) and main response fields, in the same order. Both are read
// lazily at run time, so the YAML specs are parsed here and never in the
// server. They are gzipped because their JSON is repetitive: together
// they are about the size the uncompressed search catalog alone was.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/tools/catalog"
	"go.yaml.in/yaml/v3"
)

// Limits that keep the embedded details small enough to ship and short
// enough for an agent to read in one go.
const (
	maxBodyDepth       = 4    // nesting levels of a request body shown before a branch is cut
	maxDescription     = 1200 // characters of an operation's description
	maxFieldDesc       = 300  // characters of a parameter's or field's description
	maxResponseFields  = 120  // response field paths per operation
	responseFieldDepth = 1    // nested objects or arrays expanded below the top level of an answer
	vocabDepth         = 1    // body nesting levels whose field words the ranking indexes
)

var methods = []string{"get", "post", "put", "patch", "delete"}

// record is one line of endpoints.json.gz; the catalog package decodes the same
// shape.
type record struct {
	catalog.Endpoint
	Tags  []string `json:"tags,omitempty"`
	Words string   `json:"words,omitempty"`
	Names string   `json:"names,omitempty"`
	Query string   `json:"query,omitempty"`
	Vocab string   `json:"vocab,omitempty"`
	Asked []string `json:"asked,omitempty"`
}

type item struct {
	rec    record
	detail catalog.Detail
}

func main() {
	backend := flag.String("backend", "openapi/bapi_2026-05-12.yml", "Backend API spec")
	platform := flag.String("platform", "openapi/platform_beta.yml", "Platform API spec")
	out := flag.String("out", "endpoints.json.gz", "search catalog output file")
	details := flag.String("details", "details.json.gz", "operation details output file")
	requests := flag.String("requests", "requests", "directory of requests written for operations (*.json)")
	flag.Parse()
	if err := run(*backend, *platform, *requests, *out, *details); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(backend, platform, requests, out, details string) error {
	var all []item
	tags := map[string]string{}
	for _, src := range []struct{ target, file string }{{"backend", backend}, {"platform", platform}} {
		items, err := load(src.target, src.file, tags)
		if err != nil {
			return err
		}
		all = append(all, items...)
	}
	slices.SortFunc(all, func(a, b item) int {
		return strings.Compare(a.rec.Target+" "+a.rec.Path+" "+a.rec.Method, b.rec.Target+" "+b.rec.Path+" "+b.rec.Method)
	})
	if err := attachRequests(all, requests); err != nil {
		return err
	}

	// One operation a line, so that `gunzip -c` of two generations diffs well.
	var buf bytes.Buffer
	tagJSON, err := json.Marshal(tags)
	if err != nil {
		return fmt.Errorf("encode tags: %w", err)
	}
	fmt.Fprintf(&buf, "{\"tags\":%s,\n\"endpoints\":[\n", tagJSON)
	for i, it := range all {
		line, err := json.Marshal(it.rec)
		if err != nil {
			return fmt.Errorf("encode %s: %w", it.rec.OperationID, err)
		}
		buf.Write(line)
		if i < len(all)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("]}\n")
	if err := writeGzip(out, buf.Bytes()); err != nil {
		return err
	}

	// details.json.gz: the same order, so the catalog finds an operation's
	// detail by its index.
	ds := make([]catalog.Detail, len(all))
	for i, it := range all {
		ds[i] = it.detail
	}
	raw, err := json.Marshal(ds)
	if err != nil {
		return fmt.Errorf("encode details: %w", err)
	}
	return writeGzip(details, raw)
}

// attachRequests adds to each operation the requests written for it in
// dir/*.json (arrays of {"intent", "want"}), in file and then list order.
// A request naming an operation the specs do not have is an error: the
// files must follow the specs as they change.
func attachRequests(all []item, dir string) error {
	byID := map[string]*record{}
	for i := range all {
		byID[all[i].rec.OperationID] = &all[i].rec
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return fmt.Errorf("list requests: %w", err)
	}
	slices.Sort(files)
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read requests: %w", err)
		}
		var reqs []struct {
			Intent string   `json:"intent"`
			Want   []string `json:"want"`
		}
		if err := json.Unmarshal(raw, &reqs); err != nil {
			return fmt.Errorf("decode %s: %w", name, err)
		}
		for _, r := range reqs {
			for _, id := range r.Want {
				rec, ok := byID[id]
				if !ok {
					return fmt.Errorf("%s: %q names unknown operation %s", name, r.Intent, id)
				}
				rec.Asked = append(rec.Asked, strings.TrimSpace(r.Intent))
			}
		}
	}
	return nil
}

// writeGzip writes data gzipped to name. The header carries no name or
// time, so the same input gives the same file.
func writeGzip(name string, data []byte) error {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return fmt.Errorf("compress %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress %s: %w", name, err)
	}
	return os.WriteFile(name, gz.Bytes(), 0o644)
}

// spec is an OpenAPI document decoded into plain maps, so that any $ref can
// be followed by walking it.
type spec struct {
	file string
	root map[string]any
}

func load(target, path string, tags map[string]string) ([]item, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := &spec{file: path}
	if err := yaml.Unmarshal(data, &s.root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, t := range list(s.root["tags"]) {
		m := obj(t)
		if name := str(m["name"]); name != "" && tags[name] == "" {
			tags[name] = oneLine(str(m["description"]))
		}
	}
	var items []item
	for path, pi := range obj(s.root["paths"]) {
		pathItem := obj(s.resolve(pi))
		for _, m := range methods {
			raw, ok := pathItem[m]
			if !ok {
				continue
			}
			op := obj(raw)
			it, err := s.operation(target, m, path, op, list(pathItem["parameters"]))
			if err != nil {
				return nil, fmt.Errorf("%s %s %s: %w", path, m, path, err)
			}
			items = append(items, it)
		}
	}
	return items, nil
}

func (s *spec) operation(target, method, path string, op map[string]any, shared []any) (item, error) {
	ep := catalog.Endpoint{
		Target:      target,
		Method:      strings.ToUpper(method),
		Path:        "/v1" + path,
		Summary:     strings.TrimSpace(str(op["summary"])),
		OperationID: str(op["operationId"]),
		PathParams:  pathParams(path),
		HasBody:     op["requestBody"] != nil,
		Deprecated:  op["deprecated"] == true,
	}
	if ep.OperationID == "" {
		return item{}, fmt.Errorf("no operationId")
	}
	var tags []string
	for _, t := range list(op["tags"]) {
		tags = append(tags, str(t))
	}
	d := catalog.Detail{
		Endpoint:    ep,
		Tags:        tags,
		Description: clip(oneParagraphs(str(op["description"])), maxDescription),
	}
	// Names the ranking may find the operation by beyond its summary and
	// description: those of its parameters and body fields.
	var names, query []string

	params := map[string]catalog.Param{}
	var order []string
	for _, p := range append(slices.Clone(shared), list(op["parameters"])...) {
		pm := obj(s.resolve(p))
		in := str(pm["in"])
		if in != "path" && in != "query" {
			continue // headers and cookies are the api tool's business
		}
		sch := s.merged(pm["schema"], 0)
		prm := catalog.Param{
			Name:        str(pm["name"]),
			In:          in,
			Type:        sch.typeName(),
			Required:    pm["required"] == true || in == "path",
			Description: clip(oneLine(str(pm["description"])), maxFieldDesc),
			Default:     sch.Default,
		}
		prm.Enum = sch.Enum
		if prm.Enum == nil && sch.Items != nil {
			prm.Enum = sch.Items.Enum
		}
		key := in + " " + prm.Name
		if _, seen := params[key]; !seen {
			order = append(order, key)
		}
		params[key] = prm // an operation's own parameter overrides the path item's
		names = append(names, prm.Name)
		if in == "query" {
			query = append(query, prm.Name)
		}
	}
	for _, k := range order {
		d.Parameters = append(d.Parameters, params[k])
	}

	if rb := obj(s.resolve(op["requestBody"])); rb != nil {
		d.BodyRequired = rb["required"] == true
		content := obj(rb["content"])
		ct := "application/json"
		if _, ok := content[ct]; !ok {
			// The first media type in sorted order: a map's own order
			// would make the generated files differ from run to run.
			types := make([]string, 0, len(content))
			for k := range content {
				types = append(types, k)
			}
			slices.Sort(types)
			if len(types) > 0 {
				ct = types[0]
			}
		}
		if ct != "application/json" {
			d.ContentType = ct
		}
		if media := obj(content[ct]); media != nil && media["schema"] != nil {
			d.Body = s.schema(media["schema"], 0, nil)
			for name := range d.Body.Properties {
				names = append(names, name)
			}
		}
	}

	d.ResponseStatus, d.ResponseFields = s.response(obj(op["responses"]))
	slices.Sort(names)
	names = slices.Compact(names)
	return item{
		rec: record{
			Endpoint: ep, Tags: tags, Words: oneLine(str(op["description"])),
			Names: strings.Join(names, " "), Query: strings.Join(query, " "), Vocab: vocabulary(d),
		},
		detail: d,
	}, nil
}

// vocabulary is the further words an operation's fields say about it:
// what its parameters and body fields are for ("Toggles HaveIBeenPwned
// checks"), the values they take, and the names of the fields it answers
// with. A user who asks for "the SMS country blocklist" uses them, not the
// summary's. Each word is listed once, lowercased, in order of first use.
func vocabulary(d catalog.Detail) string {
	var b []string
	seen := map[string]bool{}
	add := func(text string) {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
		}) {
			if len(w) > 1 && !seen[w] {
				seen[w] = true
				b = append(b, w)
			}
		}
	}
	for _, p := range d.Parameters {
		add(p.Description)
		for _, e := range p.Enum {
			add(str(e))
		}
	}
	var walk func(sch *catalog.Schema, depth int)
	walk = func(sch *catalog.Schema, depth int) {
		if sch == nil || depth > vocabDepth {
			return
		}
		for _, e := range sch.Enum {
			add(str(e))
		}
		names := make([]string, 0, len(sch.Properties))
		for n := range sch.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			p := sch.Properties[n]
			add(n)
			add(p.Description)
			walk(p, depth+1)
		}
		walk(sch.Items, depth)
		for _, o := range sch.OneOf {
			walk(o, depth)
		}
	}
	walk(d.Body, 0)
	fields := make([]string, 0, len(d.ResponseFields))
	for f := range d.ResponseFields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		add(f)
	}
	return strings.Join(b, " ")
}

// response picks the first 2xx answer and lists its fields as JMESPath-like
// paths: "id", "data[].email_addresses[].email_address".
func (s *spec) response(responses map[string]any) (string, map[string]string) {
	codes := make([]string, 0, len(responses))
	for c := range responses {
		if strings.HasPrefix(c, "2") {
			codes = append(codes, c)
		}
	}
	if len(codes) == 0 {
		return "", nil
	}
	sort.Strings(codes)
	code := codes[0]
	resp := obj(s.resolve(responses[code]))
	media := obj(obj(resp["content"])["application/json"])
	if media == nil || media["schema"] == nil {
		return code, nil
	}
	fields := map[string]string{}
	var walk func(sch *flat, prefix string, level int)
	walk = func(sch *flat, prefix string, level int) {
		if sch.Type == "array" && sch.Items != nil && len(sch.Items.Properties) > 0 {
			walk(sch.Items, prefix+"[]", level) // a list answer: its items are the answer
			return
		}
		names := make([]string, 0, len(sch.Properties))
		for n := range sch.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		sep := "."
		if prefix == "" {
			sep = ""
		}
		for _, n := range names {
			if len(fields) >= maxResponseFields {
				return
			}
			p := sch.Properties[n]
			name := prefix + sep + n
			fields[name] = p.typeName()
			if level >= responseFieldDepth {
				continue
			}
			switch {
			case p.Type == "array" && p.Items != nil && len(p.Items.Properties) > 0:
				walk(p.Items, name+"[]", level+1)
			case len(p.Properties) > 0:
				walk(p, name, level+1)
			}
		}
	}
	walk(s.merged(media["schema"], 0), "", 0)
	if len(fields) == 0 {
		return code, nil
	}
	return code, fields
}

// flat is a schema with $refs, allOf, oneOf and anyOf merged into one
// shape: good enough to name response fields and parameter types.
type flat struct {
	Type       string
	Nullable   bool
	Enum       []any
	Default    any
	Items      *flat
	Properties map[string]*flat
}

func (f *flat) typeName() string {
	t := f.Type
	if t == "" {
		t = "any"
		if len(f.Properties) > 0 {
			t = "object"
		}
	}
	if t == "array" && f.Items != nil {
		t = "array<" + f.Items.typeName() + ">"
	}
	if f.Nullable {
		t += "|null"
	}
	return t
}

// merged flattens a schema for response listing; depth stops recursive
// schemas.
func (s *spec) merged(node any, depth int) *flat {
	f := &flat{}
	if depth > 6 {
		return f
	}
	m := obj(s.resolve(node))
	if m == nil {
		return f
	}
	f.Type = str(m["type"])
	f.Nullable = m["nullable"] == true
	f.Enum = list(m["enum"])
	f.Default = m["default"]
	if m["items"] != nil {
		f.Items = s.merged(m["items"], depth+1)
	}
	for name, p := range obj(m["properties"]) {
		if f.Properties == nil {
			f.Properties = map[string]*flat{}
		}
		f.Properties[name] = s.merged(p, depth+1)
	}
	for _, key := range []string{"allOf", "oneOf", "anyOf"} {
		for _, part := range list(m[key]) {
			pf := s.merged(part, depth)
			if f.Type == "" {
				f.Type = pf.Type
			}
			f.Nullable = f.Nullable || pf.Nullable
			if f.Items == nil {
				f.Items = pf.Items
			}
			for n, p := range pf.Properties {
				if f.Properties == nil {
					f.Properties = map[string]*flat{}
				}
				if _, ok := f.Properties[n]; !ok {
					f.Properties[n] = p
				}
			}
		}
	}
	return f
}

// schema converts a request body schema, resolving $refs (a schema already
// being expanded on the way down is not expanded again) and cutting
// branches below maxBodyDepth.
func (s *spec) schema(node any, depth int, expanding []string) *catalog.Schema {
	m := obj(node)
	if ref := str(m["$ref"]); ref != "" {
		if slices.Contains(expanding, ref) {
			return &catalog.Schema{Type: "object", Truncated: true, Description: "recursive: the same shape as its parent " + refName(ref)}
		}
		return s.schema(s.resolve(node), depth, append(expanding, ref))
	}
	out := &catalog.Schema{
		Type:        str(m["type"]),
		Format:      str(m["format"]),
		Description: clip(oneLine(str(m["description"])), maxFieldDesc),
		Enum:        list(m["enum"]),
		Default:     m["default"],
		Nullable:    m["nullable"] == true,
		Pattern:     str(m["pattern"]),
		MinLength:   num(m["minLength"]),
		MaxLength:   num(m["maxLength"]),
		Minimum:     num(m["minimum"]),
		Maximum:     num(m["maximum"]),
		MinItems:    num(m["minItems"]),
		MaxItems:    num(m["maxItems"]),
	}
	for _, r := range list(m["required"]) {
		out.Required = append(out.Required, str(r))
	}
	expandable := m["properties"] != nil || m["items"] != nil || m["allOf"] != nil || m["oneOf"] != nil || m["anyOf"] != nil
	if depth >= maxBodyDepth && expandable {
		if out.Type == "" {
			out.Type = "object"
		}
		out.Truncated = true
		return out
	}
	if props := obj(m["properties"]); props != nil {
		out.Properties = make(map[string]*catalog.Schema, len(props))
		for name, p := range props {
			out.Properties[name] = s.schema(p, depth+1, expanding)
		}
	}
	if m["items"] != nil {
		out.Items = s.schema(m["items"], depth+1, expanding)
	}
	switch ap := m["additionalProperties"].(type) {
	case bool:
		out.AdditionalProperties = ap
	case map[string]any:
		if len(ap) == 0 {
			out.AdditionalProperties = true
		} else {
			out.AdditionalProperties = s.schema(ap, depth+1, expanding)
		}
	}
	// allOf is one object in parts: merge the parts into this schema.
	for _, part := range list(m["allOf"]) {
		ps := s.schema(part, depth, expanding)
		if out.Type == "" {
			out.Type = ps.Type
		}
		if out.Description == "" {
			out.Description = ps.Description
		}
		out.Required = append(out.Required, ps.Required...)
		out.Truncated = out.Truncated || ps.Truncated
		for n, p := range ps.Properties {
			if out.Properties == nil {
				out.Properties = map[string]*catalog.Schema{}
			}
			out.Properties[n] = p
		}
		if out.Items == nil {
			out.Items = ps.Items
		}
		if out.AdditionalProperties == nil {
			out.AdditionalProperties = ps.AdditionalProperties
		}
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		for _, part := range list(m[key]) {
			out.OneOf = append(out.OneOf, s.schema(part, depth+1, expanding))
		}
	}
	return out
}

// resolve follows $ref (possibly several in a row) to the node it names.
func (s *spec) resolve(node any) any {
	for range 10 {
		ref := str(obj(node)["$ref"])
		if ref == "" {
			return node
		}
		var cur any = s.root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
			cur = obj(cur)[part]
		}
		if cur == nil {
			fmt.Fprintf(os.Stderr, "gen: %s: unresolved $ref %s\n", s.file, ref)
			return nil
		}
		node = cur
	}
	return node
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func num(v any) *float64 {
	switch v := v.(type) {
	case int:
		f := float64(v)
		return &f
	case float64:
		return &v
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return &f
		}
	}
	return nil
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

// oneLine collapses all whitespace to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// oneParagraphs keeps paragraph breaks and collapses the rest.
func oneParagraphs(s string) string {
	var paras []string
	for _, p := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if p = oneLine(p); p != "" {
			paras = append(paras, p)
		}
	}
	return strings.Join(paras, "\n\n")
}

// clip cuts s at a word boundary to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	if i := strings.LastIndexAny(s, " \n"); i > 0 {
		s = s[:i]
	}
	return s + "…"
}
