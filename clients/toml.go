package clients

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
)

// Codex keeps its MCP servers in TOML, one table per server:
//
//	[mcp_servers.clerk]
//	command = "/usr/local/bin/clerk-mcp"
//	args = ["serve"]
//
// As with JSON, our table is edited as text so that comments and every
// other table stay as they are. The text is walked by a small scanner
// (tomlScan) that knows where values, strings and tables begin and end;
// every result is then decoded and compared with what the edit meant to
// do, and refused if anything else changed.

// tomlValidate parses src and returns the decoded document.
func tomlValidate(src []byte) (map[string]any, error) {
	doc := map[string]any{}
	if err := toml.Unmarshal(src, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("line %d, column %d: %v", row, col, de)
		}
		return nil, err
	}
	return doc, nil
}

// tomlServer returns the command and args of server name under table.
func tomlServer(src []byte, table, name string) (command string, args []string, found bool, err error) {
	doc, err := tomlValidate(src)
	if err != nil {
		return "", nil, false, err
	}
	entry, found := tomlEntry(doc, table, name)
	if !found {
		return "", nil, false, nil
	}
	m, _ := entry.(map[string]any)
	command, _ = m["command"].(string)
	raw, _ := m["args"].([]any)
	for _, a := range raw {
		if s, ok := a.(string); ok {
			args = append(args, s)
		}
	}
	return command, args, true, nil
}

// tomlEntry is doc[table][name], whatever its type.
func tomlEntry(doc map[string]any, table, name string) (any, bool) {
	servers, _ := doc[table].(map[string]any)
	entry, found := servers[name]
	return entry, found
}

// tomlQuote encodes s as a TOML basic string. strconv.Quote is not that:
// its \x1b, \a and \v escapes are not TOML, and a file holding them no
// longer parses. TOML cannot hold bytes that are not UTF-8 at all.
func tomlQuote(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q is not valid UTF-8, which TOML cannot hold", s)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// tomlList is the elements of a TOML array of strs, without the brackets.
func tomlList(strs []string) (string, error) {
	quoted := make([]string, 0, len(strs))
	for _, s := range strs {
		q, err := tomlQuote(s)
		if err != nil {
			return "", err
		}
		quoted = append(quoted, q)
	}
	return strings.Join(quoted, ", "), nil
}

// tomlTable is the table install writes for a server.
func tomlTable(table, name, command string, args []string) (string, error) {
	cmd, err := tomlQuote(command)
	if err != nil {
		return "", err
	}
	list, err := tomlList(args)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("[%s.%s]\ncommand = %s\nargs = [%s]\n", table, name, cmd, list), nil
}

// tomlSetServer writes table.name with command and args alone, replacing
// every table of that name and its sub-tables, or appending one.
func tomlSetServer(src []byte, table, name, command string, args []string) ([]byte, error) {
	doc, err := tomlValidate(src)
	if err != nil {
		return nil, err
	}
	section, err := tomlTable(table, name, command, args)
	if err != nil {
		return nil, err
	}
	d, err := tomlScan(src)
	if err != nil {
		return nil, err
	}
	var out []byte
	if spans := d.sections(table, name); len(spans) > 0 {
		out = src
		for k, s := range slices.Backward(spans) {
			text := ""
			if k == 0 {
				text = section
				if s[1] < len(src) {
					text += "\n" // keep a blank line before the next table
				}
			}
			out = splice(out, s[0], s[1], []byte(text))
		}
	} else {
		out = bytes.Clone(src)
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
			out = append(out, '\n')
		}
		if len(out) > 0 {
			out = append(out, '\n')
		}
		out = append(out, section...)
	}
	servers, _ := doc[table].(map[string]any)
	if servers == nil {
		servers = map[string]any{}
		doc[table] = servers
	}
	servers[name] = map[string]any{"command": command, "args": anyStrings(args)}
	if err := tomlCheck(out, doc); err != nil {
		return nil, fmt.Errorf("[%s.%s] could not be added in place (%v; perhaps the file also defines it as an inline table or with dotted keys): %w", table, name, err, errByHand)
	}
	return out, nil
}

// tomlMergeServer updates table.name as install owns it, and only that:
// command becomes command, and args start with lead. Every other key,
// sub-table and comment of the table is kept as it is.
func tomlMergeServer(src []byte, table, name, command string, lead []string) ([]byte, error) {
	doc, err := tomlValidate(src)
	if err != nil {
		return nil, err
	}
	d, err := tomlScan(src)
	if err != nil {
		return nil, err
	}
	h := slices.IndexFunc(d.headers, func(h tomlHeader) bool { return !h.array && slices.Equal(h.key, []string{table, name}) })
	if h < 0 {
		return nil, fmt.Errorf("[%s.%s] is written as an inline table or with dotted keys: %w", table, name, errByHand)
	}
	var cmd, args *tomlPair
	for i := range d.pairs {
		p := &d.pairs[i]
		switch {
		case p.table != h:
		case slices.Equal(p.key, []string{"command"}):
			cmd = p
		case slices.Equal(p.key, []string{"args"}):
			args = p
		}
	}
	if cmd == nil {
		return nil, fmt.Errorf("[%s.%s] has no command", table, name)
	}
	quoted, err := tomlQuote(command)
	if err != nil {
		return nil, err
	}
	list, err := tomlList(lead)
	if err != nil {
		return nil, err
	}
	edits := []edit{{cmd.valStart, cmd.valEnd, quoted}}
	entry, _ := tomlEntry(doc, table, name)
	m, _ := entry.(map[string]any)
	current, _ := m["args"].([]any)
	switch {
	case args == nil:
		text := "args = [" + list + "]\n"
		if cmd.end == len(src) && !bytes.HasSuffix(src, []byte("\n")) {
			text = "\n" + text
		}
		edits = append(edits, edit{cmd.end, cmd.end, text})
	case src[args.valStart] != '[':
		return nil, fmt.Errorf("args of [%s.%s] is not a list", table, name)
	case !hasLead(current, lead):
		l := &tomlLexer{src: src, i: args.valStart + 1}
		l.skip(true)
		first := l.i
		edits = append(edits, leadArgs(src, args.valStart, first, src[first] == ']', list))
	}
	out := applyEdits(src, edits)
	if !hasLead(current, lead) {
		m["args"] = append(anyStrings(lead), current...)
	}
	m["command"] = command
	if err := tomlCheck(out, doc); err != nil {
		return nil, fmt.Errorf("[%s.%s] could not be updated in place (%v): %w", table, name, err, errByHand)
	}
	return out, nil
}

// tomlRemoveServer deletes table.name and its sub-tables.
func tomlRemoveServer(src []byte, table, name string) ([]byte, bool, error) {
	doc, err := tomlValidate(src)
	if err != nil {
		return nil, false, err
	}
	if _, found := tomlEntry(doc, table, name); !found {
		return src, false, nil
	}
	d, err := tomlScan(src)
	if err != nil {
		return nil, false, err
	}
	spans := d.sections(table, name)
	if len(spans) == 0 {
		return nil, false, fmt.Errorf("[%s.%s] is written as an inline table or with dotted keys: %w", table, name, errByHand)
	}
	out := src
	for _, s := range slices.Backward(spans) {
		out = splice(out, s[0], s[1], nil)
	}
	if spans[len(spans)-1][1] == len(src) {
		// Install appended the table after a blank line; take that too.
		out = append(bytes.TrimRight(out, "\r\n"), '\n')
		if len(bytes.TrimSpace(out)) == 0 {
			out = nil
		}
	}
	servers := doc[table].(map[string]any)
	delete(servers, name)
	if len(servers) == 0 {
		// Without a [table] header of its own, the table goes with its
		// last server.
		if after, err := tomlValidate(out); err == nil {
			if _, kept := after[table]; !kept {
				delete(doc, table)
			}
		}
	}
	if err := tomlCheck(out, doc); err != nil {
		return nil, false, fmt.Errorf("[%s.%s] could not be removed in place (%v): %w", table, name, err, errByHand)
	}
	return out, true, nil
}

// tomlCheck decodes out and compares it with want, the document the edit
// was meant to produce.
func tomlCheck(out []byte, want map[string]any) error {
	got, err := tomlValidate(out)
	if err != nil {
		return fmt.Errorf("the result would not parse: %v", err)
	}
	if !sameValue(got, want) {
		return errors.New("the result would differ from the intended edit")
	}
	return nil
}

func anyStrings(strs []string) []any {
	out := make([]any, 0, len(strs))
	for _, s := range strs {
		out = append(out, s)
	}
	return out
}

// tomlHeader is a [table] or [[array]] header line.
type tomlHeader struct {
	key        []string
	array      bool
	start, end int // the line, through its newline
}

// tomlPair is a key = value line of the root (table -1) or of the table
// of headers[table].
type tomlPair struct {
	table            int
	key              []string
	valStart, valEnd int
	end              int // just past the line's newline
}

// tomlDoc is where the headers and pairs of a TOML file are.
type tomlDoc struct {
	src     []byte
	headers []tomlHeader
	pairs   []tomlPair
}

// sections returns the spans of table.name's tables and sub-tables, each
// from its header to the next table's header. A comment block right
// before the next header belongs to that header and is left out.
func (d *tomlDoc) sections(table, name string) [][2]int {
	var spans [][2]int
	for k, h := range d.headers {
		if len(h.key) < 2 || h.key[0] != table || h.key[1] != name {
			continue
		}
		if k+1 == len(d.headers) {
			spans = append(spans, [2]int{h.start, len(d.src)})
			continue
		}
		floor := h.end
		for _, p := range d.pairs {
			if p.table == k {
				floor = max(floor, p.end)
			}
		}
		end := d.headers[k+1].start
		for end > floor {
			ls := bytes.LastIndexByte(d.src[:end-1], '\n') + 1
			if ls < floor || !bytes.HasPrefix(bytes.TrimSpace(d.src[ls:end]), []byte("#")) {
				break
			}
			end = ls
		}
		spans = append(spans, [2]int{h.start, end})
	}
	return spans
}

// tomlScan finds the headers and pairs of src, which must be valid TOML.
func tomlScan(src []byte) (*tomlDoc, error) {
	d := &tomlDoc{src: src}
	l := &tomlLexer{src: src}
	table := -1
	for {
		l.skip(true)
		if l.i >= len(src) {
			return d, nil
		}
		lineStart := bytes.LastIndexByte(src[:l.i], '\n') + 1
		if src[l.i] == '[' {
			array := bytes.HasPrefix(src[l.i:], []byte("[["))
			l.i++
			if array {
				l.i++
			}
			l.skip(false)
			key, err := l.key()
			if err != nil {
				return nil, err
			}
			l.skip(false)
			if err := l.expect("]"); err != nil {
				return nil, err
			}
			if array {
				if err := l.expect("]"); err != nil {
					return nil, err
				}
			}
			if err := l.lineEnd(); err != nil {
				return nil, err
			}
			d.headers = append(d.headers, tomlHeader{key: key, array: array, start: lineStart, end: l.i})
			table = len(d.headers) - 1
			continue
		}
		key, err := l.key()
		if err != nil {
			return nil, err
		}
		l.skip(false)
		if err := l.expect("="); err != nil {
			return nil, err
		}
		l.skip(false)
		valStart := l.i
		if err := l.value(); err != nil {
			return nil, err
		}
		valEnd := l.i
		if err := l.lineEnd(); err != nil {
			return nil, err
		}
		d.pairs = append(d.pairs, tomlPair{table: table, key: key, valStart: valStart, valEnd: valEnd, end: l.i})
	}
}

// tomlLexer moves through TOML text.
type tomlLexer struct {
	src []byte
	i   int
}

func (l *tomlLexer) errorf(format string, args ...any) error {
	line, col := position(l.src, l.i)
	return fmt.Errorf("line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
}

// skip moves past spaces and tabs, and with newlines also past line ends
// and comments.
func (l *tomlLexer) skip(newlines bool) {
	for l.i < len(l.src) {
		switch c := l.src[l.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			l.i++
		case newlines && c == '\n':
			l.i++
		case newlines && c == '#':
			for l.i < len(l.src) && l.src[l.i] != '\n' {
				l.i++
			}
		default:
			return
		}
	}
}

func (l *tomlLexer) expect(s string) error {
	if !bytes.HasPrefix(l.src[l.i:], []byte(s)) {
		return l.errorf("want %q", s)
	}
	l.i += len(s)
	return nil
}

// lineEnd moves past the rest of a line, which may hold only a comment.
func (l *tomlLexer) lineEnd() error {
	l.skip(false)
	if l.i < len(l.src) && l.src[l.i] == '#' {
		for l.i < len(l.src) && l.src[l.i] != '\n' {
			l.i++
		}
	}
	if l.i < len(l.src) {
		if l.src[l.i] != '\n' {
			return l.errorf("unexpected %q", l.src[l.i])
		}
		l.i++
	}
	return nil
}

// key reads a dotted key, unquoting its parts.
func (l *tomlLexer) key() ([]string, error) {
	var parts []string
	for {
		l.skip(false)
		start := l.i
		switch {
		case l.i >= len(l.src):
			return nil, l.errorf("want a key")
		case l.src[l.i] == '"':
			if err := l.basicString(); err != nil {
				return nil, err
			}
			var kv map[string]string
			if err := toml.Unmarshal(append([]byte("k = "), l.src[start:l.i]...), &kv); err != nil {
				return nil, l.errorf("bad key: %v", err)
			}
			parts = append(parts, kv["k"])
		case l.src[l.i] == '\'':
			end := bytes.IndexByte(l.src[l.i+1:], '\'')
			if end < 0 {
				return nil, l.errorf("unterminated key")
			}
			parts = append(parts, string(l.src[l.i+1:l.i+1+end]))
			l.i += end + 2
		default:
			for l.i < len(l.src) && isBareKey(l.src[l.i]) {
				l.i++
			}
			if l.i == start {
				return nil, l.errorf("want a key")
			}
			parts = append(parts, string(l.src[start:l.i]))
		}
		l.skip(false)
		if l.i >= len(l.src) || l.src[l.i] != '.' {
			return parts, nil
		}
		l.i++
	}
}

func isBareKey(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// value moves past one value.
// list reads the items of an array or inline table after its opening
// bracket, separated by commas, up to close (a trailing comma allowed).
func (l *tomlLexer) list(close byte, item func() error) error {
	l.i++
	for {
		l.skip(true)
		if l.i < len(l.src) && l.src[l.i] == close {
			l.i++
			return nil
		}
		if err := item(); err != nil {
			return err
		}
		l.skip(true)
		if l.i < len(l.src) && l.src[l.i] == ',' {
			l.i++
			continue
		}
		return l.expect(string(close))
	}
}

func (l *tomlLexer) value() error {
	if l.i >= len(l.src) {
		return l.errorf("want a value")
	}
	rest := l.src[l.i:]
	switch {
	case bytes.HasPrefix(rest, []byte(`"""`)), bytes.HasPrefix(rest, []byte(`'''`)):
		delim := rest[:3]
		for l.i += 3; ; l.i++ {
			switch {
			case l.i >= len(l.src):
				return l.errorf("unterminated string")
			case delim[0] == '"' && l.src[l.i] == '\\':
				l.i++
			case bytes.HasPrefix(l.src[l.i:], delim):
				// Up to two quotes may end the string's content.
				l.i += 3
				for n := 0; n < 2 && l.i < len(l.src) && l.src[l.i] == delim[0]; n++ {
					l.i++
				}
				return nil
			}
		}
	case rest[0] == '"':
		return l.basicString()
	case rest[0] == '\'':
		end := bytes.IndexAny(rest[1:], "'\n")
		if end < 0 || rest[1+end] != '\'' {
			return l.errorf("unterminated string")
		}
		l.i += end + 2
		return nil
	case rest[0] == '[':
		return l.list(']', l.value)
	case rest[0] == '{':
		return l.list('}', func() error {
			if _, err := l.key(); err != nil {
				return err
			}
			l.skip(false)
			if err := l.expect("="); err != nil {
				return err
			}
			l.skip(false)
			return l.value()
		})
	}
	// A number, boolean or date: it runs to the end of the line, a
	// comment or a delimiter (a date may hold a space).
	start := l.i
	for l.i < len(l.src) && !bytes.ContainsRune([]byte("#\n,]}"), rune(l.src[l.i])) {
		l.i++
	}
	for l.i > start && (l.src[l.i-1] == ' ' || l.src[l.i-1] == '\t' || l.src[l.i-1] == '\r') {
		l.i--
	}
	if l.i == start {
		return l.errorf("want a value")
	}
	return nil
}

func (l *tomlLexer) basicString() error {
	for l.i++; l.i < len(l.src); l.i++ {
		switch l.src[l.i] {
		case '\\':
			l.i++
		case '"':
			l.i++
			return nil
		case '\n':
			return l.errorf("unterminated string")
		}
	}
	return l.errorf("unterminated string")
}
