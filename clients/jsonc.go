package clients

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

func (o object) find(key string) (member, bool) {
	for _, m := range o.members {
		if m.key == key {
			return m, true
		}
	}
	return member{}, false
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
		m, found := o.find(key)
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
	if m, found := o.find(name); found {
		encoded, err := json.MarshalIndent(value, lineIndent(src, m.keyStart), unit)
		if err != nil {
			return nil, err
		}
		return splice(src, m.valStart, m.valEnd, encoded), nil
	}
	return insertMember(src, o, name, value, unit)
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
		text := "\n" + indent + member
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
		case i >= len(src) || src[i] == '\n' || src[i] == '\r':
			return comma, i, false
		case bytes.HasPrefix(src[i:], []byte("//")):
			for i < len(src) && src[i] != '\n' && src[i] != '\r' {
				i++
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

// removeMember deletes the member name of the object reached through path.
// It reports whether there was one.
func removeMember(src []byte, path []string, name string) ([]byte, bool, error) {
	blanked, o, found, err := objectAtPath(src, path)
	if err != nil || !found {
		return src, false, err
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
		// Inline: cut from the end of the previous member (or the opening
		// brace) through this value, plus the comma after it when first.
		from := o.start + 1
		if k > 0 {
			from = o.members[k-1].valEnd
		}
		to := m.valEnd
		if k == 0 && comma {
			to = bytes.IndexByte(src[m.valEnd:], ',') + m.valEnd + 1
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
	m, found := o.find(name)
	if !found {
		return nil, false, nil
	}
	return json.RawMessage(blanked[m.valStart:m.valEnd]), true, nil
}

// objectAtPath parses src and finds the object reached through path. An
// empty file has no objects; a file whose top level is not an object is an
// error.
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
		m, found := o.find(key)
		if !found {
			return blanked, object{}, false, nil
		}
		if o, ok = objectAt(blanked, m.valStart); !ok {
			return blanked, object{}, false, nil
		}
	}
	return blanked, o, true, nil
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
