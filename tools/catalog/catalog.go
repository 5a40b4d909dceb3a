// Package catalog is a searchable list of Clerk's Backend and Platform API
// endpoints, generated from Clerk's OpenAPI specs (MIT licensed; the notice
// is in openapi/LICENSE) and embedded in the binary.
package catalog

//go:generate go run ./gen -out endpoints.json

import (
	_ "embed"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// Endpoint is one API operation.
type Endpoint struct {
	Target      string   `json:"target"` // "backend" or "platform"
	Method      string   `json:"method"`
	Path        string   `json:"path"` // with the /v1 prefix, as the api tool takes it
	Summary     string   `json:"summary"`
	OperationID string   `json:"operation_id"`
	PathParams  []string `json:"path_params"`
	HasBody     bool     `json:"has_body"`
	Tags        []string `json:"tags,omitempty"`
	Description string   `json:"description,omitempty"`
	Deprecated  bool     `json:"deprecated,omitempty"`
}

// Filter narrows a search; empty fields match everything.
type Filter struct {
	Target string
	Method string
	Tag    string
}

//go:embed endpoints.json
var endpointsJSON []byte

// indexed is an endpoint with the words it is found by.
type indexed struct {
	Endpoint
	fields   [5]map[string]bool // summary, operation id, path, tags, description
	intent   string             // list, get, create, update, delete, or an action word
	resource string             // the last static path segment, stemmed: "organization_membership"
	bulk     bool               // acts on many at once ("Ban multiple users", /invitations/bulk)
	depth    int                // path segments
}

// Field weights, in the order of indexed.fields.
var weights = [5]float64{4, 2.5, 2, 1.5, 1}

// catalogIndex is the parsed catalog with each word's inverse document
// frequency: a word found in few endpoints ("impersonate") says more about
// the one wanted than a word found in many ("user").
type catalogIndex struct {
	endpoints []indexed
	idf       map[string]float64
}

var index = sync.OnceValue(func() *catalogIndex {
	var eps []Endpoint
	if err := json.Unmarshal(endpointsJSON, &eps); err != nil {
		panic("catalog: embedded endpoints.json: " + err.Error())
	}
	out := make([]indexed, len(eps))
	for i, e := range eps {
		var statics []string
		for _, seg := range strings.Split(strings.TrimPrefix(e.Path, "/v1/"), "/") {
			if !strings.HasPrefix(seg, "{") {
				statics = append(statics, seg)
			}
		}
		out[i] = indexed{
			Endpoint: e,
			fields: [5]map[string]bool{
				wordSet(e.Summary),
				wordSet(e.OperationID),
				wordSet(strings.Join(statics, " ")),
				wordSet(strings.Join(e.Tags, " ")),
				wordSet(e.Description),
			},
			intent:   intentOf(e),
			resource: strings.Join(words(statics[len(statics)-1]), "_"),
			bulk:     strings.HasSuffix(e.Path, "/bulk") || wordSet(e.Summary)["multiple"],
			depth:    strings.Count(e.Path, "/"),
		}
	}
	df := map[string]int{}
	for i := range out {
		seen := map[string]bool{}
		for _, field := range out[i].fields {
			for w := range field {
				if !seen[w] {
					seen[w] = true
					df[w]++
				}
			}
		}
	}
	idf := make(map[string]float64, len(df))
	for w, n := range df {
		idf[w] = 1 + math.Log(float64(len(out))/float64(n))
	}
	return &catalogIndex{endpoints: out, idf: idf}
})

// All returns every endpoint in the catalog.
func All() []Endpoint {
	idx := index().endpoints
	out := make([]Endpoint, len(idx))
	for i := range idx {
		out[i] = idx[i].Endpoint
	}
	return out
}

// Search ranks the endpoints matching f by how well they answer query (free
// words such as "list users" or "ban user") and returns at most limit of
// them, best first. An empty query lists the filtered endpoints in path
// order.
func Search(query string, f Filter, limit int) []Endpoint {
	terms, verb := parseQuery(query)
	q := parsedQuery{terms: terms, verb: verb, joined: strings.Join(terms, "_"), bulk: wordSet(query)["bulk"] || wordSet(query)["multiple"]}
	type scored struct {
		i     int
		score float64
	}
	var hits []scored
	idx := index()
	for i := range idx.endpoints {
		e := &idx.endpoints[i]
		if !f.matches(e) {
			continue
		}
		if len(terms) == 0 && verb == "" {
			hits = append(hits, scored{i, 0})
			continue
		}
		if s := e.score(q, idx.idf); s > 0 {
			hits = append(hits, scored{i, s})
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]Endpoint, len(hits))
	for k, h := range hits {
		out[k] = idx.endpoints[h.i].Endpoint
	}
	return out
}

func (f Filter) matches(e *indexed) bool {
	if f.Target != "" && !strings.EqualFold(f.Target, e.Target) {
		return false
	}
	if f.Method != "" && !strings.EqualFold(f.Method, e.Method) {
		return false
	}
	if f.Tag != "" && !slices.ContainsFunc(e.Tags, func(t string) bool { return strings.EqualFold(t, f.Tag) }) {
		return false
	}
	return true
}

// parsedQuery is a query split into what it asks for.
type parsedQuery struct {
	terms  []string // content words, stemmed
	verb   string   // the intent asked for, if any
	joined string   // terms joined by "_", to compare with a resource name
	bulk   bool     // the query asks for a bulk operation
}

// score is the sum over query terms of the weight of the best field that
// contains them, scaled by the term's inverse document frequency, plus bonuses for naming the endpoint's resource, for a
// matching verb and for matching every term, minus a little per path
// segment so that the plain resource beats its sub-resources on a tie.
func (e *indexed) score(q parsedQuery, idf map[string]float64) float64 {
	var s float64
	matched := 0
	for _, t := range q.terms {
		best := 0.0
		for k, field := range e.fields {
			if field[t] {
				best = max(best, weights[k])
			}
		}
		if best > 0 {
			s += best * idf[t]
			matched++
		}
	}
	if len(q.terms) > 0 && matched == 0 {
		return 0
	}
	if len(q.terms) > 0 && matched == len(q.terms) {
		s += 3
	}
	switch {
	case e.resource == q.joined:
		s += 3
	case slices.Contains(q.terms, e.resource):
		s += 1.5
	}
	switch {
	case q.verb == "":
	case q.verb == e.intent:
		s += 4
	case e.fields[0][q.verb] || e.fields[1][q.verb]:
		s += 2
	default:
		s -= 1.5
	}
	if e.bulk && !q.bulk {
		s -= 2
	}
	if e.Deprecated {
		s -= 2
	}
	return s - 0.1*float64(e.depth)
}

// intentOf says what an endpoint does, in the words of verbs: an action
// path (POST /users/{id}/ban) is its action; otherwise the method and
// whether the path ends in a parameter decide.
func intentOf(e Endpoint) string {
	last := e.Path[strings.LastIndex(e.Path, "/")+1:]
	endsInParam := strings.HasPrefix(last, "{")
	switch e.Method {
	case "GET":
		if endsInParam {
			return "get"
		}
		if w := words(e.Summary); len(w) > 0 && (w[0] == "get" || w[0] == "retrieve" || w[0] == "fetch") &&
			!slices.Contains(w, "list") && !slices.Contains(w, "all") {
			return "get"
		}
		return "list"
	case "DELETE":
		return "delete"
	case "PATCH", "PUT":
		return "update"
	case "POST":
		if !endsInParam {
			if words := words(e.Summary); len(words) > 0 && words[0] != "create" {
				return words[0]
			}
		}
		return "create"
	}
	return ""
}

// verbs maps words that say what to do to the intent they ask for.
var verbs = map[string]string{
	"list": "list", "all": "list", "search": "list", "enumerate": "list", "index": "list",
	"get": "get", "fetch": "get", "retrieve": "get", "show": "get", "read": "get", "lookup": "get", "find": "get", "view": "get",
	"create": "create", "add": "create", "new": "create", "make": "create", "register": "create", "send": "create",
	"delete": "delete", "remove": "delete", "destroy": "delete", "erase": "delete", "drop": "delete",
	"update": "update", "edit": "update", "modify": "update", "change": "update", "rename": "update", "patch": "update",
}

// synonyms maps query words to the catalog's words.
var synonyms = map[string]string{
	"org": "organization", "invite": "invitation", "app": "application",
	"env": "instance", "environment": "instance", "signin": "sign", "signup": "sign", "login": "sign",
	"2fa": "mfa", "mail": "email", "apikey": "key", "many": "count", "number": "count", "total": "count",
}

// verbNouns are words that are both a verb and a resource: "invite someone"
// asks to create an invitation.
var verbNouns = map[string][2]string{"invite": {"create", "invitation"}, "ban": {"ban", "ban"}}

var stopwords = map[string]bool{"a": true, "an": true, "the": true, "of": true, "for": true, "to": true, "in": true,
	"on": true, "by": true, "my": true, "and": true, "with": true, "from": true, "me": true, "how": true, "do": true, "i": true, "api": true}

// parseQuery splits a query into content terms and the first verb.
func parseQuery(q string) (terms []string, verb string) {
	for _, w := range words(q) {
		if vn, ok := verbNouns[w]; ok {
			if verb == "" {
				verb = vn[0]
			}
			terms = append(terms, vn[1])
			continue
		}
		if v, ok := verbs[w]; ok {
			if verb == "" {
				verb = v
			}
			continue
		}
		if stopwords[w] {
			continue
		}
		if s, ok := synonyms[w]; ok {
			w = s
		}
		terms = append(terms, w)
	}
	return terms, verb
}

func wordSet(s string) map[string]bool {
	set := map[string]bool{}
	for _, w := range words(s) {
		set[w] = true
	}
	return set
}

// words lowercases, splits on anything but letters and digits and at
// camelCase boundaries, and stems plurals.
func words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, stem(strings.ToLower(string(cur))))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && len(cur) > 0 && (unicode.IsLower(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				flush()
			}
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// stem strips English plural endings, the same way on both sides.
func stem(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && (strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "xes")):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us"):
		return w[:len(w)-1]
	}
	return w
}
