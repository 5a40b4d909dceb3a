// Package catalog is a searchable list of Clerk's Backend and Platform API
// endpoints, generated from Clerk's OpenAPI specs (MIT licensed; the notice
// is in openapi/LICENSE) and embedded in the binary.
//
// Search ranks operations for a request in an agent's words ("kick someone
// out of a team") by the specs' words, Clerk's vocabulary and requests
// written for each operation (requests/); Describe gives what a first
// correct call to one of them needs. Both read generated data
// (endpoints.json.gz, details.json.gz), parsed on first use: the YAML specs
// are read only by `go generate`.
package catalog

//go:generate go run ./gen -out endpoints.json.gz -details details.json.gz

import (
	_ "embed"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"sync"
)

// Endpoint is one API operation, as a search returns it.
type Endpoint struct {
	Target      string   `json:"target"` // "backend" or "platform"
	Method      string   `json:"method"`
	Path        string   `json:"path" jsonschema:"path to pass to the api tool, with {params} to fill in"` // with the /v1 prefix, as the api tool takes it
	Summary     string   `json:"summary"`
	OperationID string   `json:"operation_id"`
	PathParams  []string `json:"path_params"`
	HasBody     bool     `json:"has_body" jsonschema:"the endpoint takes a request body"`
	Deprecated  bool     `json:"deprecated,omitempty"`
}

// Filter narrows a search; empty fields match everything.
type Filter struct {
	Target string
	Method string
	Tag    string
}

//go:embed endpoints.json.gz
var endpointsGzip []byte

// record is one operation in endpoints.json.gz: what a hit shows, its tags,
// and the further words it may be found by: its whole description (Words),
// the names of its parameters and body fields (Names) and of its query
// parameters alone (Query), which are what a list can be filtered by, and
// the words of what its fields are for and answer with (Vocab).
type record struct {
	Endpoint
	Tags  []string `json:"tags,omitempty"`
	Words string   `json:"words,omitempty"`
	Names string   `json:"names,omitempty"`
	Query string   `json:"query,omitempty"`
	Vocab string   `json:"vocab,omitempty"`
	// Asked are requests people wrote for the operation (requests/*.json).
	Asked []string `json:"asked,omitempty"`
}

// indexed is an endpoint with what the ranking knows of it.
type indexed struct {
	Endpoint
	tags      []string
	head      map[string]bool // stems of the summary and operation id, to recognise an action verb
	intent    string          // list, get, count, create, update, delete, or an action word
	class     string          // the operation kind of intent: revoke is a delete
	resource  string          // the last static path segment, stemmed: "membership"
	params    [][]string      // what each path parameter names: "organization" for {organization_id}
	pathStems []string        // stems of the static path segments: what the operation is about
	bulk      bool            // acts on many at once ("Ban multiple users", /invitations/bulk)
	depth     int             // path segments
}

// Fields an endpoint is found by, BM25F style: a word's frequency in each
// field, weighted by the field and normalised by the field's length, adds
// up to one term frequency that saturates. A word of the summary says more
// about what the operation does than one its description merely mentions,
// and a word in a short description more than one in a long one.
const (
	fieldSummary = iota
	fieldOperationID
	fieldPath
	fieldTags
	fieldDescription
	fieldNames // parameter and body field names
	fieldTagDesc
	fieldVocab // what its fields are for and the fields it answers with
	numFields
)

// fieldWeight and fieldNorm are each field's weight and how much its
// length matters (BM25's b): a summary is short by nature, so its length
// says little; the length of a description says how much it rambles.
var (
	fieldWeight = [numFields]float64{3, 1.1, 0.75, 0.5, 0.3, 0.22, 0.16, 0.13}
	fieldNorm   = [numFields]float64{0.2, 0.2, 0.2, 0.2, 0.75, 0.5, 0.5, 0.75}
)

const (
	bm25K1 = 1.2 // how fast term frequency saturates
	// bm25Scale brings a saturated score back to the scale the rank's
	// bonuses are set for: a summary word alone scores about fieldWeight
	// of the summary times its idf.
	bm25Scale = 5.2
	// fieldFilter is the weight of a query parameter named after what a
	// query filters by ("by email").
	fieldFilter = 4
)

// posting is one endpoint a stem is found in, with the weight of the best
// field it is found in.
type posting struct {
	ep     int32
	weight float32
}

// catalogIndex is the parsed catalog as inverted indexes, with each
// stem's inverse document frequency: a word found in few endpoints
// ("impersonate") says more about the one wanted than a word found in
// many ("user").
type catalogIndex struct {
	endpoints []indexed
	postings  map[string][]posting
	filters   map[string][]int32 // stem -> endpoints with a query parameter named with it
	idf       map[string]float64
	actions   map[string]bool // stems of the actions of action paths: "ban", "revoke"
	asked     askedIndex      // the requests written for each endpoint
}

// index is the catalog's index, built on first use.
var index = sync.OnceValue(buildIndex)

// buildIndex parses the embedded catalog into a catalogIndex.
func buildIndex() *catalogIndex {
	var f struct {
		Tags      map[string]string `json:"tags"`
		Endpoints []record          `json:"endpoints"`
	}
	// The embedded catalog is built by go generate and checked by the
	// package's tests: a broken one is a build defect, not a run-time error.
	if err := json.Unmarshal(gunzip(endpointsGzip), &f); err != nil {
		panic("catalog: embedded endpoints.json.gz: " + err.Error())
	}
	idx := &catalogIndex{
		endpoints: make([]indexed, len(f.Endpoints)),
		postings:  map[string][]posting{},
		filters:   map[string][]int32{},
		idf:       map[string]float64{},
		actions:   map[string]bool{},
	}
	fieldStems := make([][numFields][]string, len(f.Endpoints))
	asked := make([][]string, len(f.Endpoints))
	var avgLen [numFields]float64
	for i, r := range f.Endpoints {
		var statics []string
		for _, seg := range strings.Split(strings.TrimPrefix(r.Path, "/v1/"), "/") {
			if !strings.HasPrefix(seg, "{") {
				statics = append(statics, seg)
			}
		}
		var tagDescs []string
		for _, t := range r.Tags {
			tagDescs = append(tagDescs, f.Tags[t])
		}
		asked[i] = r.Asked
		texts := [numFields]string{
			r.Summary, r.OperationID, strings.Join(statics, " "), strings.Join(r.Tags, " "),
			r.Words, r.Names, strings.Join(tagDescs, " "), r.Vocab,
		}
		for k, text := range texts {
			toks := tokens(text)
			fieldStems[i][k] = make([]string, len(toks))
			for j, tok := range toks {
				fieldStems[i][k][j] = stem(tok)
			}
			avgLen[k] += float64(len(toks)) / float64(len(f.Endpoints))
		}
		seen := map[string]bool{}
		for _, tok := range tokens(r.Query) {
			if s := stem(tok); !seen[s] {
				seen[s] = true
				idx.filters[s] = append(idx.filters[s], int32(i))
			}
		}
		head := map[string]bool{}
		for _, tok := range tokens(r.Summary + " " + r.OperationID) {
			head[stem(tok)] = true
		}
		var res []string
		for _, tok := range tokens(statics[len(statics)-1]) {
			res = append(res, stem(tok))
		}
		params := make([][]string, len(r.PathParams))
		for k, p := range r.PathParams {
			for _, tok := range tokens(p) {
				switch tok {
				case "id", "or", "name", "key":
				case "env", "ins": // {envOrInsID}: an environment or an instance
					params[k] = append(params[k], "instanc")
				default:
					params[k] = append(params[k], stem(tok))
				}
			}
		}
		var pathStems []string
		for _, seg := range statics {
			for _, tok := range tokens(seg) {
				if st := stem(tok); tok != "platform" && !slices.Contains(pathStems, st) {
					pathStems = append(pathStems, st)
				}
			}
		}
		e := indexed{
			pathStems: pathStems,
			params:    params,
			Endpoint:  r.Endpoint,
			tags:      r.Tags,
			head:      head,
			intent:    intentOf(r.Endpoint),
			resource:  strings.Join(res, "_"),
			bulk:      strings.HasSuffix(r.Path, "/bulk") || head["multiple"],
			depth:     strings.Count(r.Path, "/"),
		}
		e.class = classOf(e.intent)
		if !isCoreVerb(e.intent) {
			idx.actions[stem(e.intent)] = true
		}
		idx.endpoints[i] = e
	}
	for i := range fieldStems {
		tf := map[string]float64{}
		for k, stems := range fieldStems[i] {
			// A word counts once a field: that a long description says
			// "organization" five times makes it no more about
			// organizations than the summary that says it once.
			norm := 1 - fieldNorm[k] + fieldNorm[k]*float64(len(stems))/max(avgLen[k], 1)
			seen := map[string]bool{}
			for _, s := range stems {
				if !seen[s] {
					seen[s] = true
					tf[s] += fieldWeight[k] / norm
				}
			}
		}
		for s, v := range tf {
			idx.postings[s] = append(idx.postings[s], posting{int32(i), float32(bm25Scale * v / (bm25K1 + v))})
		}
	}
	// Postings are sorted by stem order of a map; sort them by endpoint so
	// that the accumulation order, and so float rounding, is the same on
	// every run.
	for s, ps := range idx.postings {
		slices.SortFunc(ps, func(a, b posting) int { return int(a.ep - b.ep) })
		idx.idf[s] = 1 + math.Log(float64(len(idx.endpoints))/float64(len(ps)))
	}
	idx.asked = buildAsked(asked)
	return idx
}

// All returns every endpoint in the catalog.
func All() []Endpoint {
	idx := index().endpoints
	out := make([]Endpoint, len(idx))
	for i := range idx {
		out[i] = idx[i].Endpoint
	}
	return out
}

// Search ranks the endpoints matching f by how well they answer query (what
// the user wants, in plain words: "list users", "kick someone out of a
// team") and returns at most limit of them, best first. An empty query
// lists the filtered endpoints in path order.
func Search(query string, f Filter, limit int) []Endpoint {
	return index().search(query, f, limit)
}

func (idx *catalogIndex) search(query string, f Filter, limit int) []Endpoint {
	q := parseQuery(query, idx)
	type scored struct {
		i     int
		score float64
	}
	var hits []scored
	asked := idx.asked.score(query, len(idx.endpoints))
	switch {
	case len(q.groups) == 0 && q.verb == "" && strings.TrimSpace(query) != "":
		// Nothing the catalog knows of: no hit is better than a random
		// one. The requests alone do not count: their best match always
		// scores in full, even on one stray word ("x", "corp").
		return nil
	case len(q.groups) == 0 && q.verb == "":
		for i := range idx.endpoints {
			if f.matches(&idx.endpoints[i]) {
				hits = append(hits, scored{i, 0})
			}
		}
	default:
		words, covered := q.score(idx)
		for i := range idx.endpoints {
			e := &idx.endpoints[i]
			a := 0.0
			if asked != nil {
				a = asked[i]
			}
			if !f.matches(e) || (q.total > 0 && covered[i] == 0 && a < askedAlone) {
				continue
			}
			hits = append(hits, scored{i, e.rank(q, words[i], covered[i]) + askedWeight*a})
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

// score sums, for every endpoint, each group's best alternative: the
// weight of the field it is found in times its idf. covered is the weight
// of the groups found, for the coverage bonus.
func (q *parsedQuery) score(idx *catalogIndex) (words, covered []float64) {
	n := len(idx.endpoints)
	words = make([]float64, n)
	covered = make([]float64, n)
	best := make([]float64, n)
	sum := make([]float64, n)
	count := make([]int, n)
	var touched []int32
	for _, g := range q.groups {
		clear(best)
		for _, a := range g.alts {
			// An alternative of several stems ("profile image") counts
			// in full only where all of them are found. Only the endpoints
			// touched are visited and reset, not the whole catalog.
			touched = touched[:0]
			for _, s := range a.stems {
				idf := idx.idf[s]
				// What a list is filtered by ("a user by email") is an
				// attribute, not the thing wanted: it counts most where a
				// query parameter is named after it.
				weight := 1.0
				if g.filter {
					weight = 0.5
				}
				for _, p := range idx.postings[s] {
					if count[p.ep] == 0 {
						touched = append(touched, p.ep)
					}
					sum[p.ep] += float64(p.weight) * idf * weight
					count[p.ep]++
				}
				if g.filter {
					for _, ep := range idx.filters[s] {
						if count[ep] == 0 {
							touched = append(touched, ep)
							count[ep] = 1
						}
						sum[ep] = max(sum[ep], fieldFilter*idf)
					}
				}
			}
			for _, i := range touched {
				v := sum[i] * a.weight
				if count[i] < len(a.stems) {
					v /= 2
				}
				best[i] = max(best[i], v)
				sum[i], count[i] = 0, 0
			}
		}
		for i, v := range best {
			if v > 0 {
				words[i] += v * g.weight
				if !g.weak {
					covered[i] += g.weight
				}
			}
		}
	}
	return words, covered
}

func (f Filter) matches(e *indexed) bool {
	if f.Target != "" && !strings.EqualFold(f.Target, e.Target) {
		return false
	}
	if f.Method != "" && !strings.EqualFold(f.Method, e.Method) {
		return false
	}
	if f.Tag != "" && !slices.ContainsFunc(e.tags, func(t string) bool { return strings.EqualFold(t, f.Tag) }) {
		return false
	}
	return true
}

// rank turns an endpoint's word score into its rank score: a bonus for
// matching every part of the query, for naming the endpoint's resource and
// for asking what it does (its verb), less a little per path segment so
// that the plain resource beats its sub-resources on a tie.
func (e *indexed) rank(q parsedQuery, s, covered float64) float64 {
	if q.total > 0 {
		c := covered / q.total
		s += 4 * c * c
	}
	switch {
	case e.resource == "":
	case e.resource == q.joined, e.resource == q.head:
		s += 3
	case q.mentions[e.resource]:
		s += 1.5
	}
	// A path parameter names the thing acted on or its parent. If the query
	// says "an organization", the one a parameter names fits; if it never
	// mentions the parent, a nested operation (an organization's
	// invitations) is less likely what it wants than the top-level one.
	for _, p := range e.params {
		switch {
		case slices.ContainsFunc(p, func(s string) bool { return q.one[s] }):
			s++
		case !slices.ContainsFunc(p, func(s string) bool { return q.mentions[s] }):
			s--
		}
	}
	if q.verb != "" {
		s += q.verbFit(e)
	}
	// What the path is about should be what the query asks about: the
	// organization's domains are no answer to "list organizations".
	if len(e.pathStems) > 0 {
		n := 0
		for _, p := range e.pathStems {
			if q.mentions[p] {
				n++
			}
		}
		s += pathFit * float64(n) / float64(len(e.pathStems))
	}
	// The Platform API manages applications for a workspace; the Backend
	// API one application's users. A query says which by its cues
	// ("agency", "client apps", "across apps"); without any, the Backend
	// twin of an operation is the likelier one.
	switch {
	case e.Target == "platform" && q.platform:
		s += platformFit
	case e.Target == "platform":
		s -= 1
	}
	if q.across {
		// "Invitations across every organization": not one of them.
		for _, p := range e.params {
			if slices.ContainsFunc(p, func(s string) bool { return q.mentions[s] }) {
				s -= 1.5
			}
		}
	}
	switch {
	case e.bulk && !q.bulk:
		s -= 2
	case e.bulk && q.bulk:
		s += 2
	}
	if e.Deprecated {
		s -= 2
	}
	return s - 0.1*float64(e.depth)
}

const (
	pathFit     = 3   // bonus for a path all of whose words the query mentions
	platformFit = 2.5 // bonus for a Platform operation when the query says Platform
)

// classOf is the operation kind an action word belongs to: uploading a
// logo updates it, revoking an invitation deletes it in effect. Any other
// verb is its own kind.
func classOf(verb string) string {
	switch verb {
	case "upload", "set", "replace", "merge", "adjust",
		"toggle", "extend", "assign", "unset", "revert":
		return "update"
	case "add", "apply", "send", "generate", "claim", "trigger",
		"bulk", "invite":
		return "create"
	case "remove", "revoke", "cancel", "disable", "reject":
		return "delete"
	case "retrieve", "verify", "preview":
		return "get"
	}
	return verb
}

// verbFit scores how well what the query asks to do fits what the endpoint
// does. "find" and "look up" often mean a filtered list, "how many" is
// answered by a list's total_count, and "set up" may create or configure:
// those mismatches cost little; asking to read and getting a write (or
// the reverse) costs most.
func (q *parsedQuery) verbFit(e *indexed) float64 {
	want, have := q.class, e.class
	switch {
	case q.verb == e.intent:
		return 4
	case !isCoreVerb(q.verb) && e.head[q.verbStem]:
		return 3
	case want == have:
		return 3
	case want == "get" && have == "list", want == "count" && have == "list":
		return 1.5
	case want == "list" && have == "get", want == "count" && have == "get":
		return 0
	case want == "create" && have == "update", want == "update" && have == "create":
		return -0.5
	case isRead(want) != isRead(have):
		return -3
	}
	return -1.5
}

// isRead reports whether an operation kind only reads.
func isRead(class string) bool {
	return class == "list" || class == "get" || class == "count"
}

// intentOf says what an endpoint does, in the words of verbs: an action
// path (POST /users/{id}/ban) is its action; otherwise the method and
// whether the path ends in a parameter decide.
func intentOf(e Endpoint) string {
	last := e.Path[strings.LastIndex(e.Path, "/")+1:]
	endsInParam := strings.HasPrefix(last, "{")
	first := ""
	if w := tokens(e.Summary); len(w) > 0 {
		first = w[0]
	}
	switch e.Method {
	case "GET":
		switch {
		case endsInParam:
			return "get"
		case last == "count" || first == "count":
			return "count"
		case (first == "get" || first == "retrieve" || first == "fetch") &&
			!strings.Contains(strings.ToLower(e.Summary), "list") && !strings.Contains(strings.ToLower(e.Summary), " all "):
			return "get"
		}
		return "list"
	case "DELETE":
		return "delete"
	case "PATCH", "PUT":
		return "update"
	case "POST":
		if !endsInParam && first != "" {
			if v, ok := vocab().verbs[first]; ok && isCoreVerb(v) {
				return v // "Add a domain" creates one
			}
			return strings.TrimSuffix(first, "s") // "Revokes an invitation"
		}
		return "create"
	}
	return ""
}
