package clients

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Editor configs are JSON, and several (VS Code, Gemini CLI, Claude Code)
// accept comments and trailing commas. Re-encoding such a file would drop
// the user's comments and reorder their settings, so edits are made on the
// text: the file is parsed only to find byte spans, and our entry is
// spliced in or cut out, leaving every other byte as it was.

// MalformedError reports a config file that is not valid JSON (with
// comments) or TOML. The file is left untouched.
type MalformedError struct {
	Path string
	Err  error
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("%s is not valid: %v; fix or move it, then run the command again (the file was not changed)", e.Path, e.Err)
}

func (e *MalformedError) Unwrap() error { return e.Err }

// blank returns src with comments and trailing commas replaced by spaces
// (newlines kept), so that it is plain JSON with the same byte offsets.
func blank(src []byte) ([]byte, error) {
	out := bytes.Clone(src)
	lastComma := -1 // offset of a comma that may turn out to be trailing
	var prev byte   // the last significant byte before the current one
	for i := 0; i < len(out); i++ {
		c := out[i]
		switch {
		case c == '"':
			lastComma = -1
			for i++; i < len(out) && out[i] != '"'; i++ {
				if out[i] == '\\' {
					i++
				}
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for ; i < len(out) && out[i] != '\n'; i++ {
				out[i] = ' '
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			end := bytes.Index(out[i+2:], []byte("*/"))
			if end < 0 {
				return nil, errors.New("unterminated /* comment")
			}
			for j := i; j < i+2+end+2; j++ {
				if out[j] != '\n' {
					out[j] = ' '
				}
			}
			i += end + 3
		case c == ',':
			// Only a comma after a value can be trailing; "{," stays an error.
			if prev != '{' && prev != '[' && prev != ',' {
				lastComma = i
			}
		case c == '}' || c == ']':
			if lastComma >= 0 {
				out[lastComma] = ' '
			}
			lastComma = -1
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		default:
			lastComma = -1
		}
		if i < len(out) && out[i] != ' ' && out[i] != '\n' {
			prev = c
		}
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return out, nil
	}
	if !json.Valid(out) {
		var v any
		err := json.Unmarshal(out, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(src, int(se.Offset))
			return nil, fmt.Errorf("line %d, column %d: %v", line, col, se)
		}
		return nil, err
	}
	return out, nil
}

func position(src []byte, off int) (line, col int) {
	off = min(off, len(src))
	line = 1 + bytes.Count(src[:off], []byte("\n"))
	col = off - bytes.LastIndexByte(src[:off], '\n')
	return line, col
}

// member is one "key": value pair of an object, as byte offsets.
type member struct {
	key              string
	keyStart         int // the opening quote of the key
	valStart, valEnd int
}

// object is an object value's span and members.
type object struct {
	start, end int // the braces: src[start] == '{', src[end-1] == '}'
	members    []member
}

// scanner walks blanked JSON, which is known to be valid.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// skipValue moves past one value.
func (s *scanner) skipValue() {
	s.ws()
	switch s.b[s.i] {
	case '{', '[':
		depth := 0
		for ; s.i < len(s.b); s.i++ {
			switch s.b[s.i] {
			case '"':
				s.skipString()
				s.i--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return
				}
			}
		}
	case '"':
		s.skipString()
	default:
		for s.i < len(s.b) && !strings.ContainsRune(",}] \t\r\n", rune(s.b[s.i])) {
			s.i++
		}
	}
}

func (s *scanner) skipString() {
	for s.i++; s.b[s.i] != '"'; s.i++ {
		if s.b[s.i] == '\\' {
			s.i++
		}
	}
	s.i++
}

// objectAt parses the object starting at offset at (after whitespace).
func objectAt(b []byte, at int) (object, bool) {
	s := &scanner{b: b, i: at}
	s.ws()
	if s.i >= len(b) || b[s.i] != '{' {
		return object{}, false
	}
	o := object{start: s.i}
	s.i++
	for {
		s.ws()
		if b[s.i] == '}' {
			s.i++
			o.end = s.i
			return o, true
		}
		if b[s.i] == ',' {
			s.i++
			continue
		}
		keyStart := s.i
		s.skipString()
		var key string
		json.Unmarshal(b[keyStart:s.i], &key)
		s.ws()
		s.i++ // ':'
		s.ws()
		valStart := s.i
		s.skipValue()
		o.members = append(o.members, member{key: key, keyStart: keyStart, valStart: valStart, valEnd: s.i})
	}
}

// lookup finds the member key of o. A key given twice is an error: JSON
// parsers disagree on which one counts (most take the last, this scanner
// would edit the first), so neither is touched.
func (o object) lookup(src []byte, key string) (member, bool, error) {
	var found []member
	for _, m := range o.members {
		if m.key == key {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		return member{}, false, nil
	case 1:
		return found[0], true, nil
	}
	first, _ := position(src, found[0].keyStart)
	second, _ := position(src, found[1].keyStart)
	return member{}, false, fmt.Errorf("%q is given %d times in the same object (lines %d and %d), so which one the client uses is ambiguous; keep one", key, len(found), first, second)
}

// setMember sets the member name of the object reached through path (keys
// of nested objects, created when missing) to value, and returns the new
// text. Nothing outside the replaced or inserted span changes.
func setMember(src []byte, path []string, name string, value any) ([]byte, error) {
	if len(bytes.TrimSpace(src)) == 0 {
		src = []byte("{}\n")
	}
	blanked, err := blank(src)
	if err != nil {
		return nil, err
	}
	unit := indentUnit(src)
	o, ok := objectAt(blanked, 0)
	if !ok {
		return nil, errors.New("the top level is not a JSON object")
	}
	for depth, key := range path {
		m, found, err := o.lookup(src, key)
		if err != nil {
			return nil, err
		}
		if !found {
			// Build the missing rest of the path around the value.
			var nested any = value
			for k := len(path) - 1; k > depth; k-- {
				nested = orderedObject{{path[k], nested}}
			}
			return insertMember(src, o, key, orderedObject{{name, nested}}, unit)
		}
		inner, isObject := objectAt(blanked, m.valStart)
		if !isObject {
			return nil, fmt.Errorf("%q is not an object", key)
		}
		o = inner
	}
	m, found, err := o.lookup(src, name)
	if err != nil {
		return nil, err
	}
	if found {
		encoded, err := json.MarshalIndent(value, lineIndent(src, m.keyStart), unit)
		if err != nil {
			return nil, err
		}
		return splice(src, m.valStart, m.valEnd, encoded), nil
	}
	return insertMember(src, o, name, value, unit)
}

// mergeMember updates the entry name of the object reached through path
// as install owns it, and only that: its "command" becomes command, and
// its "args" start with lead (inserted in front when they do not). Every
// other byte of the entry (more args, env, comments) stays where it is.
func mergeMember(src []byte, path []string, name, command string, lead []string) ([]byte, error) {
	blanked, o, found, err := objectAtPath(src, path)
	if err != nil {
		return nil, err
	}
	var m member
	if found {
		m, found, err = o.lookup(src, name)
		if err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, fmt.Errorf("no %q entry to update", name)
	}
	entry, ok := objectAt(blanked, m.valStart)
	if !ok {
		return nil, fmt.Errorf("%q is not an object", name)
	}
	cmd, found, err := entry.lookup(src, "command")
	if err != nil {
		return nil, fmt.Errorf("in %q: %w", name, err)
	}
	if !found {
		return nil, fmt.Errorf("%q has no command", name)
	}
	args, hasArgs, err := entry.lookup(src, "args")
	if err != nil {
		return nil, fmt.Errorf("in %q: %w", name, err)
	}
	edits := []edit{{cmd.valStart, cmd.valEnd, jsonString(command)}}
	switch {
	case !hasArgs:
		edits = append(edits, edit{cmd.valEnd, cmd.valEnd, `, "args": [` + jsonList(lead) + "]"})
	case blanked[args.valStart] != '[':
		return nil, fmt.Errorf(`"args" of %q is not a list`, name)
	default:
		var current []any
		if err := json.Unmarshal(blanked[args.valStart:args.valEnd], &current); err != nil {
			return nil, fmt.Errorf(`"args" of %q: %w`, name, err)
		}
		if hasLead(current, lead) {
			break
		}
		first := args.valStart + 1
		for first < len(blanked) && isSpace(blanked[first]) {
			first++
		}
		edits = append(edits, leadArgs(src, args.valStart, first, blanked[first] == ']', jsonList(lead)))
	}
	return applyEdits(src, edits), nil
}

// insertMember adds "name": value as the last member of o.
func insertMember(src []byte, o object, name string, value any, unit string) ([]byte, error) {
	keyJSON, _ := json.Marshal(name)
	if len(o.members) == 0 {
		outer := lineIndent(src, o.start)
		encoded, err := json.MarshalIndent(value, outer+unit, unit)
		if err != nil {
			return nil, err
		}
		text := "\n" + outer + unit + string(keyJSON) + ": " + string(encoded) + "\n" + outer
		// Replace whatever whitespace or comments sat between the braces
		// only when it is blank; otherwise keep it before our member.
		inside := src[o.start+1 : o.end-1]
		if len(bytes.TrimSpace(inside)) == 0 {
			return splice(src, o.start+1, o.end-1, []byte(text)), nil
		}
		return splice(src, o.end-1, o.end-1, []byte(strings.TrimRight(text, " \t")+outer)), nil
	}
	last := o.members[len(o.members)-1]
	indent := lineIndent(src, last.keyStart)
	encoded, err := json.MarshalIndent(value, indent, unit)
	if err != nil {
		return nil, err
	}
	member := string(keyJSON) + ": " + string(encoded)
	trailing, lineEnd, rest := afterValue(src, last.valEnd)
	if !rest {
		// The last member ends its line (maybe with a comment): our member
		// goes on lines of its own after it, and the comment stays put. A
		// file that uses trailing commas gets one after ours too.
		eol := "\n"
		if lineEnd < len(src) && src[lineEnd] == '\r' {
			eol = "\r\n" // a file that mixes line ends: follow this line's
		}
		text := eol + indent + member
		if trailing {
			return splice(src, lineEnd, lineEnd, []byte(text+",")), nil
		}
		out := splice(src, last.valEnd, last.valEnd, []byte(","))
		return splice(out, lineEnd+1, lineEnd+1, []byte(text)), nil
	}
	if trailing {
		return splice(src, lineEnd, lineEnd, []byte(" "+member+",")), nil
	}
	return splice(src, last.valEnd, last.valEnd, []byte(", "+member)), nil
}

// hasLead reports whether args start with the strings of lead.
func hasLead(args []any, lead []string) bool {
	if len(args) < len(lead) {
		return false
	}
	for i, want := range lead {
		if s, ok := args[i].(string); !ok || s != want {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// jsonString encodes s as a JSON string, leaving <, > and & as they are:
// paths are read by people too.
func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

// jsonList is the elements of a JSON list of strs, without the brackets.
func jsonList(strs []string) string {
	var quoted []string
	for _, s := range strs {
		quoted = append(quoted, jsonString(s))
	}
	return strings.Join(quoted, ", ")
}

// afterValue looks at what follows a member's value on its line: whether a
// comma comes next, and where the line ends, skipping comments. rest is
// true when more JSON follows on the same line; lineEnd is then the offset
// just after the comma (or the value).
func afterValue(src []byte, valEnd int) (comma bool, lineEnd int, rest bool) {
	i := valEnd
	skipSpace := func() {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
			i++
		}
	}
	skipSpace()
	if i < len(src) && src[i] == ',' {
		comma = true
		i++
	}
	afterComma := i
	for {
		skipSpace()
		switch {
		case i >= len(src) || src[i] == '\n' || bytes.HasPrefix(src[i:], []byte("\r\n")):
			return comma, i, false
		case bytes.HasPrefix(src[i:], []byte("//")):
			// As in blank, a line comment runs to the LF.
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if src[i-1] == '\r' {
				i--
			}
		case bytes.HasPrefix(src[i:], []byte("/*")):
			end := bytes.Index(src[i+2:], []byte("*/"))
			if end < 0 || bytes.ContainsAny(src[i:i+2+end], "\n") {
				return comma, afterComma, true
			}
			i += end + 4
		default:
			return comma, afterComma, true
		}
	}
}

// removeMember deletes the member name of the object reached through path,
// and then the objects on path that this leaves empty (with nothing in
// them, not even a comment), so that an install and an uninstall give back
// the file they started from, `{}` included. It reports whether there was
// a member to delete.
func removeMember(src []byte, path []string, name string) ([]byte, bool, error) {
	out, found, err := removeOne(src, path, name)
	if err != nil || !found {
		return src, false, err
	}
	for len(path) > 0 {
		_, o, found, err := objectAtPath(out, path)
		if err != nil || !found || len(o.members) > 0 || len(bytes.TrimSpace(out[o.start+1:o.end-1])) > 0 {
			return out, true, err
		}
		parent, key := path[:len(path)-1], path[len(path)-1]
		if out, _, err = removeOne(out, parent, key); err != nil {
			return nil, false, err
		}
		path = parent
	}
	// The top-level object lost its last member: when only whitespace is
	// left between its braces, it becomes `{}` again.
	blanked, err := blank(out)
	if err != nil {
		return nil, false, err
	}
	if root, ok := objectAt(blanked, 0); ok && len(bytes.TrimSpace(out[root.start+1:root.end-1])) == 0 {
		out = splice(out, root.start+1, root.end-1, nil)
	}
	return out, true, nil
}

// removeOne deletes the member name of the object reached through path.
func removeOne(src []byte, path []string, name string) ([]byte, bool, error) {
	blanked, o, found, err := objectAtPath(src, path)
	if err != nil || !found {
		return src, false, err
	}
	if _, _, err := o.lookup(src, name); err != nil {
		return nil, false, err
	}
	for k, m := range o.members {
		if m.key != name {
			continue
		}
		comma, lineEnd, rest := afterValue(src, m.valEnd)
		lineStart := bytes.LastIndexByte(src[:m.keyStart], '\n') + 1
		if !rest && len(bytes.TrimSpace(src[lineStart:m.keyStart])) == 0 && lineStart > o.start {
			// The member has its lines to itself: cut them, with the comma
			// after it. The last member without a comma takes the comma of
			// the member before it, which then ends the object.
			to := lineEnd
			if to < len(src) && src[to] == '\r' {
				to++
			}
			if to < len(src) && src[to] == '\n' {
				to++
			}
			out := splice(src, lineStart, to, nil)
			if !comma && k > 0 {
				prev := o.members[k-1]
				if c := bytes.IndexByte(blanked[prev.valEnd:lineStart], ','); c >= 0 {
					out = splice(out, prev.valEnd+c, prev.valEnd+c+1, nil)
				}
			}
			return out, true, nil
		}
		// Inline: cut what insertMember adds, ", M" after the previous
		// member, or " M," after its comma when commas trail; the first
		// member goes from the opening brace, with its comma.
		from := o.start + 1
		if k > 0 {
			from = o.members[k-1].valEnd
		}
		to := m.valEnd
		if comma {
			to = bytes.IndexByte(src[m.valEnd:], ',') + m.valEnd + 1
			if k > 0 {
				from += bytes.IndexByte(blanked[from:m.keyStart], ',') + 1
			}
		}
		return splice(src, from, to, nil), true, nil
	}
	return src, false, nil
}

// lookupMember returns the raw value of the member name of the object
// reached through path.
func lookupMember(src []byte, path []string, name string) (json.RawMessage, bool, error) {
	blanked, o, found, err := objectAtPath(src, path)
	if err != nil || !found {
		return nil, false, err
	}
	m, found, err := o.lookup(src, name)
	if err != nil || !found {
		return nil, false, err
	}
	// Inside the entry too, a key given twice would make install read one
	// command and the client run the other.
	if entry, ok := objectAt(blanked, m.valStart); ok {
		for _, k := range entry.members {
			if _, _, err := entry.lookup(src, k.key); err != nil {
				return nil, false, fmt.Errorf("in %q: %w", name, err)
			}
		}
	}
	return json.RawMessage(blanked[m.valStart:m.valEnd]), true, nil
}

// objectAtPath parses src and finds the object reached through path. An
// empty file has no objects; a file whose top level is not an object is an
// error, and so is a key on path given twice.
func objectAtPath(src []byte, path []string) (blanked []byte, o object, found bool, err error) {
	if len(bytes.TrimSpace(src)) == 0 {
		return nil, object{}, false, nil
	}
	if blanked, err = blank(src); err != nil {
		return nil, object{}, false, err
	}
	o, ok := objectAt(blanked, 0)
	if !ok {
		return nil, object{}, false, errors.New("the top level is not a JSON object")
	}
	for _, key := range path {
		m, found, err := o.lookup(src, key)
		if err != nil || !found {
			return blanked, object{}, false, err
		}
		if o, ok = objectAt(blanked, m.valStart); !ok {
			return blanked, object{}, false, nil
		}
	}
	return blanked, o, true, nil
}

// edit replaces src[from:to] with text.
type edit struct {
	from, to int
	text     string
}

// applyEdits applies non-overlapping edits to src, from the last to the
// first so that earlier offsets stay valid.
func applyEdits(src []byte, edits []edit) []byte {
	slices.SortFunc(edits, func(a, b edit) int { return b.from - a.from })
	for _, e := range edits {
		src = splice(src, e.from, e.to, []byte(e.text))
	}
	return src
}

// leadArgs inserts list (the arguments install owns) at first, the first
// element of a list that opens at open: on a line of its own when the list
// keeps its elements on lines of their own, else followed by ", ".
func leadArgs(src []byte, open, first int, empty bool, list string) edit {
	switch {
	case empty:
	case bytes.IndexByte(src[open:first], '\n') >= 0:
		list += ",\n" + lineIndent(src, first)
	default:
		list += ", "
	}
	return edit{first, first, list}
}

func splice(src []byte, from, to int, text []byte) []byte {
	out := make([]byte, 0, len(src)-(to-from)+len(text))
	out = append(out, src[:from]...)
	out = append(out, text...)
	return append(out, src[to:]...)
}

// lineIndent is the leading whitespace of the line holding offset.
func lineIndent(src []byte, offset int) string {
	start := bytes.LastIndexByte(src[:offset], '\n') + 1
	end := start
	for end < len(src) && (src[end] == ' ' || src[end] == '\t') {
		end++
	}
	return string(src[start:end])
}

// indentUnit guesses the file's indentation step from its first indented
// line; two spaces when there is none.
func indentUnit(src []byte) string {
	for _, line := range bytes.Split(src, []byte("\n")) {
		trimmed := bytes.TrimLeft(line, " \t")
		if n := len(line) - len(trimmed); n > 0 && len(trimmed) > 0 {
			return string(line[:n])
		}
	}
	return "  "
}

// orderedObject is a JSON object that keeps its members' order.
type orderedObject []struct {
	Key   string
	Value any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(m.Key)
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
