package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clerk-mcp/clerk-mcp/envelope"
)

// Every tool result stays within a budget of characters, declared to
// clients (Tool.MaxResultChars), because clients refuse or move aside what
// is larger: Claude Code rejects a result over 25,000 tokens, files a
// successful one over 50,000 characters away unless the tool declares its
// size, and cuts error results after about 11,000 characters. An answer
// over the budget is cut as JSON, never as text, so that what the agent
// reads still parses: arrays lose their last items, keeping the first ones
// whole, and a marker says what was cut and how to ask for the rest.
//
// Sizes are counted in bytes of the result's JSON text as the server
// writes it. A byte count is never below the character count a client
// makes (UTF-16 units or code points), so a result within the budget in
// bytes is within it in characters.

const (
	// DefaultMaxResultChars is the budget of a tool result when
	// Deps.MaxResultChars is zero.
	DefaultMaxResultChars = 40_000
	// MinMaxResultChars is the smallest budget accepted: below it, the
	// marker and an error envelope no longer fit.
	MinMaxResultChars = 2_000
	// maxErrorChars bounds an error result, well under the point where
	// Claude Code cuts error results.
	maxErrorChars = 8_000
	// minCutString is the shortest string worth cutting rather than
	// dropping with the array or object that holds it.
	minCutString = 64
	// maxCutPasses bounds the rounds of cutting; an answer that still does
	// not fit after them is replaced by null.
	maxCutPasses = 64
	// maxHeaderValue bounds each header value shown in an api result.
	maxHeaderValue = 1_000
)

// Cut is one part of an answer shortened to fit the budget: the array,
// string or object at Path (a JMESPath expression relative to the answer,
// "@" for the answer itself) of which the first Kept of Total items,
// characters or fields are shown.
type Cut struct {
	Kept  int    `json:"kept"`
	Total int    `json:"total"`
	Path  string `json:"path"`
	// kind is '[' for an array, '{' for an object, '"' for a string.
	kind byte
}

// unit names what Kept and Total count.
func (c Cut) unit() string {
	switch c.kind {
	case '{':
		return "fields"
	case '"':
		return "characters"
	}
	return "items"
}

// Truncation marks a result cut to fit the budget: the main cut, any
// further ones, and what to do to see the rest.
type Truncation struct {
	Cut
	// TotalAtLeast says Total is a lower bound: the answer was larger than
	// clerk-mcp reads at all (MaxResponseBody).
	TotalAtLeast bool   `json:"total_at_least,omitempty"`
	MoreCuts     []Cut  `json:"more_cuts,omitempty"`
	Remedy       string `json:"remedy"`
}

// newTruncation makes the marker of cuts, which must not be empty.
func newTruncation(cuts []Cut, remedy string) *Truncation {
	return &Truncation{Cut: cuts[0], MoreCuts: cuts[1:], Remedy: remedy}
}

// budgeted makes t keep its results within budget characters and its
// errors within min(budget, maxErrorChars), whatever the handler returns.
// The api tool fits its answers itself, with a remedy naming select and
// paging; this is the rule for every tool.
func budgeted(t Tool, budget int) Tool {
	h := t.Handler
	t.MaxResultChars = budget
	// Output schemas already allow the marker a cut adds (truncatable, at
	// generate time): clients check structured output against them.
	t.Handler = func(ctx context.Context, args json.RawMessage) (any, error) {
		out, err := h(ctx, args)
		if err != nil {
			return nil, fitError(err, min(budget, maxErrorChars))
		}
		return fitResult(out, budget)
	}
	return t
}

// fitResult encodes out and cuts it to budget bytes, adding a top-level
// "truncated" marker. The result is returned encoded, so that the server
// does not encode it again.
func fitResult(out any, budget int) (any, error) {
	doc, err := json.Marshal(out)
	if err != nil || len(doc) <= budget {
		return json.RawMessage(doc), err
	}
	if doc[0] != '{' {
		// Every tool's result is an object; anything else cannot carry the
		// marker, and is cut without one.
		fitted, _ := fitJSON(doc, budget)
		return json.RawMessage(fitted), nil
	}
	remedy := fmt.Sprintf("The result was over clerk-mcp's budget of %d characters and was cut as shown; ask for less (a narrower query or a smaller limit).", budget)
	reserve := 0
	for range 4 {
		fitted, cuts := fitJSON(doc, budget-reserve-len(`,"truncated":`)-markerEstimate(remedy))
		if len(cuts) == 0 {
			return json.RawMessage(fitted), nil
		}
		mark, _ := json.Marshal(newTruncation(cuts, remedy))
		withMark := addMember(fitted, "truncated", mark)
		if over := len(withMark) - budget; over > 0 {
			reserve += over
			continue
		}
		return json.RawMessage(withMark), nil
	}
	return json.RawMessage(`{}`), nil
}

// markerEstimate is the size of a marker with one cut and remedy.
func markerEstimate(remedy string) int {
	b, _ := json.Marshal(newTruncation([]Cut{{Kept: 99999, Total: 99999, Path: "@"}}, remedy))
	return len(b) + 64 // room for a longer path
}

// addMember adds "key": value at the end of the JSON object obj.
func addMember(obj []byte, key string, value []byte) []byte {
	out := make([]byte, 0, len(obj)+len(key)+len(value)+4)
	out = append(out, obj[:len(obj)-1]...)
	if len(obj) > 2 {
		out = append(out, ',')
	}
	out = append(out, '"')
	out = append(out, key...)
	out = append(out, `":`...)
	out = append(out, value...)
	return append(out, '}')
}

// fitError returns err with its envelope cut to limit bytes: Clerk's
// errors[] first (the items at its end, then long strings in the first
// items), then the message. The reason, remedy and clerk_trace_id are
// never cut: they are what the agent acts on and quotes to Clerk.
func fitError(err error, limit int) error {
	var e *envelope.Error
	if !errors.As(err, &e) || len(envelope.Marshal(e)) <= limit {
		// envelope.From bounds the envelopes it makes itself.
		return err
	}
	c := *e // the original may be the caller's, and is kept for logs
	// The message quotes Clerk's first error, which errors[] holds too:
	// a quarter of the limit is plenty for it.
	cutMessage(&c, len(envelope.Marshal(&c))-limit, limit/4)
	if len(c.Errors) > 0 {
		errs := normalizeJSON(c.Errors)
		c.Errors = nil
		// Room for errors[] and the note added to the message.
		room := limit - len(envelope.Marshal(&c)) - len(`,"errors":`) - 200
		fitted, cuts := fitJSON(errs, max(room, 2))
		if string(fitted) != "null" {
			c.Errors = fitted
		}
		if len(cuts) > 0 {
			c.Message = strings.TrimSuffix(c.Message, ".") + fmt.Sprintf(" (errors[] cut to fit: %s).", describeCuts(cuts))
		}
	}
	cutMessage(&c, len(envelope.Marshal(&c))-limit, 0)
	return &c
}

// cutMessage shortens e's message by over bytes of its encoding, or to
// at most most bytes, whichever is shorter.
func cutMessage(e *envelope.Error, over, most int) {
	for over > 0 || len(e.Message) > most && most > 0 {
		// Escapes make the encoded message longer than the message, so
		// cutting by the excess converges in a pass or two.
		keep := max(0, len(e.Message)-max(over, 0)-len("…"))
		if most > 0 {
			keep = min(keep, most)
		}
		for keep > 0 && !utf8.RuneStart(e.Message[keep]) {
			keep--
		}
		before := len(envelope.Marshal(e))
		e.Message = e.Message[:keep] + "…"
		if keep == 0 {
			return
		}
		over -= before - len(envelope.Marshal(e))
		most = 0
	}
}

// describeCuts says in words what cuts kept.
func describeCuts(cuts []Cut) string {
	parts := make([]string, len(cuts))
	for i, c := range cuts {
		parts[i] = fmt.Sprintf("%d of %d %s of %s kept", c.Kept, c.Total, c.unit(), c.Path)
	}
	return strings.Join(parts, "; ")
}

// fitText cuts s so that it takes at most room bytes encoded as a JSON
// string (quotes included), at a character boundary. It returns the kept
// text and the characters kept and in total.
func fitText(s string, room int) (kept string, keptChars, totalChars int) {
	room -= 2 // the quotes
	size, end := 0, len(s)
	for i := 0; i < len(s); i++ {
		size += encodedLen(s, i)
		if size > room {
			end = i
			break
		}
	}
	for end > 0 && end < len(s) && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end], utf8.RuneCountInString(s[:end]), utf8.RuneCountInString(s)
}

// encodedLen is how many bytes s[i] takes in a JSON string as
// encoding/json writes it (HTML-safe); the bytes of a character after its
// first count 1, except for U+2028 and U+2029, which take 6 in all.
func encodedLen(s string, i int) int {
	c := s[i]
	switch {
	case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
		return 2
	case c < 0x20 || c == '<' || c == '>' || c == '&':
		return 6
	case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9):
		return 4 // and 1 for each of the next two bytes: \u2028
	}
	return 1
}

const hexDigits = "0123456789abcdef"

// normalizeJSON returns valid JSON b as encoding/json re-encodes a
// json.RawMessage: without insignificant space, and with <, >, & and
// U+2028/U+2029 escaped in strings. The server encodes every result that
// way, so sizes are measured on this form. b itself is returned when it is
// already in it, which is the common case of a compact answer.
func normalizeJSON(b []byte) []byte {
	var out []byte
	changed, last := false, 0
	flush := func(i int) {
		if !changed {
			out = make([]byte, 0, len(b)+len(b)/16)
			changed = true
		}
		out = append(out, b[last:i]...)
	}
	for i := 0; i < len(b); i++ {
		// Table lookups in tight loops: this runs over every byte of a
		// megabyte answer.
		for i < len(b) && !outsideSpecial[b[i]] {
			i++
		}
		if i == len(b) {
			break
		}
		if b[i] != '"' {
			flush(i) // insignificant space
			last = i + 1
			continue
		}
		for i++; i < len(b); i++ {
			for i < len(b) && !insideSpecial[b[i]] {
				i++
			}
			if i == len(b) {
				break
			}
			c := b[i]
			if c == '"' {
				break
			}
			switch {
			case c == '\\':
				i++
			case c == 0xE2:
				if i+2 < len(b) && b[i+1] == 0x80 && b[i+2]&^1 == 0xA8 {
					flush(i)
					out = append(out, '\\', 'u', '2', '0', '2', hexDigits[b[i+2]&0xF])
					i += 2
					last = i + 1
				}
			default: // <, > or &
				flush(i)
				out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
				last = i + 1
			}
		}
	}
	if !changed {
		return b
	}
	return append(out, b[last:]...)
}

// outsideSpecial marks the bytes normalizeJSON and the scanners stop at
// outside strings; insideSpecial those inside strings.
var outsideSpecial, insideSpecial, structural [256]bool

func init() {
	for _, c := range []byte(" \t\n\r\"") {
		outsideSpecial[c] = true
	}
	for _, c := range []byte("\"\\<>&\xe2") {
		insideSpecial[c] = true
	}
	for _, c := range []byte("\"[]{},") {
		structural[c] = true
	}
}

// stringEnd returns the index of the quote closing the JSON string that
// opens at doc[i].
func stringEnd(doc []byte, i int) int {
	for j := i + 1; j < len(doc); j++ {
		switch doc[j] {
		case '"':
			return j
		case '\\':
			j++ // the escaped byte
		}
	}
	return len(doc) - 1
}

// node is an array, object or string of a JSON document: doc[start:end].
type node struct {
	kind       byte // '[', '{' or '"'
	start, end int
	count      int // items of an array, members of an object
}

func (n node) size() int { return n.end - n.start }

// frame is an open array or object during a scan.
type frame struct {
	kind      byte
	start     int
	commas    int
	expectKey bool
}

// candidates returns the largest array of two or more items or string
// value longer than minCutString (whichever is larger), and the largest
// object of two or more members, of valid compact JSON doc. ok is false
// for what was not found.
func candidates(doc []byte) (best node, okBest bool, obj node, okObj bool) {
	stack := make([]frame, 0, 32)
	for i := 0; i < len(doc); i++ {
		for i < len(doc) && !structural[doc[i]] {
			i++
		}
		if i == len(doc) {
			break
		}
		switch c := doc[i]; c {
		case '"':
			start := i
			i = stringEnd(doc, i)
			if top := len(stack) - 1; top >= 0 && stack[top].expectKey {
				stack[top].expectKey = false
				continue
			}
			if n := (node{kind: '"', start: start, end: i + 1}); n.size() > minCutString+2 && n.size() > best.size() {
				best, okBest = n, true
			}
		case '[', '{':
			stack = append(stack, frame{kind: c, start: i, expectKey: c == '{'})
		case ']', '}':
			top := len(stack) - 1
			if top < 0 {
				return
			}
			f := stack[top]
			stack = stack[:top]
			n := node{kind: f.kind, start: f.start, end: i + 1, count: f.commas}
			if i > f.start+1 {
				n.count++
			}
			switch {
			case n.count < 2:
			case c == ']' && n.size() > best.size():
				best, okBest = n, true
			case c == '}' && n.size() > obj.size():
				obj, okObj = n, true
			}
		case ',':
			if top := len(stack) - 1; top >= 0 {
				stack[top].commas++
				stack[top].expectKey = stack[top].kind == '{'
			}
		}
	}
	return
}

// fitJSON cuts valid compact JSON doc to at most room bytes, keeping it
// valid: it shortens the largest array (or a string larger than any
// array) from the end, keeping its first items whole, and again until the
// document fits; objects lose their last fields only when no array or
// string is worth cutting. It returns the document and the cuts made, in
// order. A document that cannot be cut to fit is replaced by null.
func fitJSON(doc []byte, room int) ([]byte, []Cut) {
	var cuts []Cut
	for pass := 0; len(doc) > room; pass++ {
		excess := len(doc) - room
		best, okBest, obj, okObj := candidates(doc)
		var n node
		switch {
		// An array or string that can take a good share of the excess;
		// otherwise an object, so that a document of many small parts
		// does not take a pass per part.
		case okBest && (best.size() >= excess/8 || !okObj):
			n = best
		case okObj:
			n = obj
		default:
			pass = maxCutPasses
		}
		if pass >= maxCutPasses {
			return []byte("null"), append(cuts, Cut{Kept: 0, Total: 1, Path: "@", kind: '['})
		}
		cut := Cut{Path: pathTo(doc, n.start), kind: n.kind}
		var kept []byte
		if n.kind == '"' {
			kept, cut.Kept, cut.Total = cutString(doc[n.start:n.end], n.size()-excess)
		} else {
			kept, cut.Kept = cutContainer(doc[n.start:n.end], n.size()-excess)
			cut.Total = n.count
		}
		out := make([]byte, 0, len(doc)-n.size()+len(kept))
		out = append(out, doc[:n.start]...)
		out = append(out, kept...)
		doc = append(out, doc[n.end:]...)
		cuts = append(cuts, cut)
	}
	return doc, cuts
}

// cutContainer keeps the first items (or members) of the array or object
// v that fit in size bytes with its brackets, and at least one.
func cutContainer(v []byte, size int) ([]byte, int) {
	kept, end := 0, 1
	depth := 0
	for i := 1; i < len(v)-1; i++ {
		switch v[i] {
		case '"':
			i = stringEnd(v, i)
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth > 0 {
				continue
			}
			if kept > 0 && i+1 > size {
				return closeContainer(v, end), kept
			}
			kept, end = kept+1, i
		}
	}
	// The last item cannot be the one left out: the caller cuts only
	// containers of two or more items, to fewer than all.
	return closeContainer(v, end), kept
}

func closeContainer(v []byte, end int) []byte {
	out := make([]byte, 0, end+1)
	out = append(out, v[:end]...)
	return append(out, v[len(v)-1])
}

// cutString keeps as much of the JSON string v (quotes included) as fits
// in size bytes, and fewer characters than all, without splitting an
// escape or a character. It returns the string and the characters kept
// and in total.
func cutString(v []byte, size int) ([]byte, int, int) {
	content := v[1 : len(v)-1]
	// A string keeps its first minCutString bytes, so that a cut leaves
	// it recognizable; the next pass cuts elsewhere if that is not enough.
	keep := min(max(size-2, minCutString), len(content)-1)
	for keep > 0 && !utf8.RuneStart(content[keep]) {
		keep--
	}
	// Then back to the start of an escape the cut falls in (a backslash,
	// which starts a character too).
	for j := 0; j < keep; j++ {
		if content[j] != '\\' {
			continue
		}
		n := 2
		if j+1 < len(content) && content[j+1] == 'u' {
			n = 6
		}
		if j+n > keep {
			keep = j
			break
		}
		j += n - 1
	}
	out := make([]byte, 0, keep+2)
	out = append(out, '"')
	out = append(out, content[:keep]...)
	out = append(out, '"')
	return out, utf8.RuneCount(content[:keep]), utf8.RuneCount(content)
}

// pathTo returns the JMESPath expression of the value starting at
// doc[target], such as data[3].email_addresses, or "@" for the document.
func pathTo(doc []byte, target int) string {
	type seg struct {
		kind      byte
		key       []byte // the quoted key of an object's current member
		index     int
		expectKey bool
	}
	stack := make([]seg, 0, 16)
	for i := 0; i < target; i++ {
		switch c := doc[i]; c {
		case '"':
			start := i
			i = stringEnd(doc, i)
			if top := len(stack) - 1; top >= 0 && stack[top].expectKey {
				stack[top].key, stack[top].expectKey = doc[start:i+1], false
			}
		case '[', '{':
			stack = append(stack, seg{kind: c, expectKey: c == '{'})
		case ']', '}':
			stack = stack[:len(stack)-1]
		case ',':
			top := len(stack) - 1
			stack[top].index++
			stack[top].expectKey = stack[top].kind == '{'
		}
	}
	var b strings.Builder
	for _, s := range stack {
		if s.kind == '[' {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		var key string
		json.Unmarshal(s.key, &key)
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if isIdentifier(key) {
			b.WriteString(key)
		} else {
			// JMESPath quotes identifiers as JSON strings.
			b.Write(s.key)
		}
	}
	if b.Len() == 0 {
		return "@"
	}
	return b.String()
}

// isIdentifier reports whether s is a JMESPath unquoted identifier.
func isIdentifier(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(isAlnum(c) || c == '_') {
			return false
		}
	}
	return true
}

// salvageJSON turns the start of a JSON document, cut where clerk-mcp
// stopped reading, into a valid document: it ends the text after the last
// complete item of the outermost array that has one (of the deepest open
// array or object that has one, failing that) and closes what is still
// open. It returns the document and the cut made, or ok false when the
// text is not the start of a JSON array or object.
func salvageJSON(prefix []byte) (doc []byte, cut Cut, ok bool) {
	if len(prefix) == 0 || (prefix[0] != '[' && prefix[0] != '{') {
		return nil, Cut{}, false
	}
	// open containers: where each starts, the end of its last complete
	// item, and how many items are complete.
	type open struct {
		kind           byte
		start, lastEnd int
		items          int
	}
	stack := make([]open, 0, 32)
	for i := 0; i < len(prefix); i++ {
		switch c := prefix[i]; c {
		case '"':
			end := stringEnd(prefix, i)
			if prefix[end] != '"' || end == i {
				i = len(prefix) // an unterminated string ends the text
				continue
			}
			i = end
		case '[', '{':
			stack = append(stack, open{kind: c, start: i})
		case ']', '}':
			if len(stack) == 0 {
				return nil, Cut{}, false
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return nil, Cut{}, false // complete: not a cut document
			}
			top := &stack[len(stack)-1]
			top.items, top.lastEnd = top.items+1, i+1
		case ',':
			if len(stack) == 0 {
				return nil, Cut{}, false
			}
			if top := &stack[len(stack)-1]; top.lastEnd != i {
				// A scalar item (or member) ends here.
				top.items, top.lastEnd = top.items+1, i
			}
		}
	}
	d := -1
	for k := range stack {
		if stack[k].kind == '[' && stack[k].items > 0 {
			d = k
			break
		}
	}
	for k := len(stack) - 1; d < 0 && k >= 0; k-- {
		if stack[k].items > 0 {
			d = k
		}
	}
	if d < 0 {
		return nil, Cut{}, false
	}
	doc = make([]byte, 0, stack[d].lastEnd+d+1)
	doc = append(doc, prefix[:stack[d].lastEnd]...)
	for k := d; k >= 0; k-- {
		doc = append(doc, stack[k].kind+2) // ']' is '['+2, '}' is '{'+2
	}
	f := stack[d]
	return doc, Cut{Kept: f.items, Total: f.items, Path: pathTo(doc, f.start), kind: f.kind}, true
}

// truncationSchema is the JSON Schema of the "truncated" marker, which
// every tool's output schema allows.
const truncationSchema = `{"type":"object","description":"set when the result was cut to fit the budget: {kept, total, path, remedy}"}`

// withProperty returns the JSON Schema of an object with one more
// property, name, added at the end of its properties, so that the order
// clients show is kept. A schema without properties is returned as is.
func withProperty(schema json.RawMessage, name, propSchema string) json.RawMessage {
	schema = normalizeJSON(schema)
	depth, expectKey := 0, false
	for i := 0; i < len(schema); i++ {
		switch c := schema[i]; c {
		case '"':
			start := i
			i = stringEnd(schema, i)
			if depth != 1 || !expectKey {
				continue
			}
			expectKey = false
			if string(schema[start:i+1]) != `"properties"` || i+2 >= len(schema) || schema[i+2] != '{' {
				continue
			}
			end := i + 2 + len(closingObject(schema[i+2:]))
			var b []byte
			b = append(b, schema[:end-1]...)
			if schema[end-2] != '{' {
				b = append(b, ',')
			}
			b = append(b, strconv.Quote(name)...)
			b = append(b, ':')
			b = append(b, propSchema...)
			return append(b, schema[end-1:]...)
		case '{', '[':
			depth++
			expectKey = c == '{' && depth == 1
		case '}', ']':
			depth--
		case ',':
			expectKey = depth == 1
		}
	}
	return schema
}

// closingObject returns the JSON object or array at the start of v.
func closingObject(v []byte) []byte {
	depth := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			i = stringEnd(v, i)
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return v[:i+1]
			}
		}
	}
	return v
}
