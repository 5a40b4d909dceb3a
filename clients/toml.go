package clients

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Codex keeps its MCP servers in TOML, one table per server:
//
//	[mcp_servers.clerk]
//	command = "/usr/local/bin/clerk-mcp"
//	args = ["serve"]
//
// As with JSON, our table is edited as text so that comments and every
// other table stay as they are; the result is parsed before it is written.

// tableHeader matches any table header line, capturing its key.
var tableHeader = regexp.MustCompile(`^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$`)

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
	servers, _ := doc[table].(map[string]any)
	entry, ok := servers[name].(map[string]any)
	if !ok {
		return "", nil, false, nil
	}
	command, _ = entry["command"].(string)
	raw, _ := entry["args"].([]any)
	for _, a := range raw {
		if s, ok := a.(string); ok {
			args = append(args, s)
		}
	}
	return command, args, true, nil
}

// tomlSection finds the lines of table.name (and its sub-tables): the
// offsets of its header line's start and of the next foreign header.
func tomlSection(src []byte, table, name string) (start, end int, found bool) {
	own := func(key string) bool {
		parts := splitKey(key)
		return len(parts) >= 2 && parts[0] == table && parts[1] == name
	}
	offset := 0
	start = -1
	for _, line := range bytes.SplitAfter(src, []byte("\n")) {
		if m := tableHeader.FindSubmatch(bytes.TrimRight(line, "\r\n")); m != nil {
			switch {
			case start < 0 && own(string(m[1])):
				start = offset
			case start >= 0 && !own(string(m[1])):
				return start, offset, true
			}
		}
		offset += len(line)
	}
	if start < 0 {
		return 0, 0, false
	}
	return start, len(src), true
}

// splitKey splits a dotted TOML key, unquoting quoted parts.
func splitKey(key string) []string {
	var parts []string
	for _, p := range strings.Split(key, ".") {
		p = strings.TrimSpace(p)
		if u, err := strconv.Unquote(p); err == nil {
			p = u
		} else if len(p) >= 2 && p[0] == '\'' && p[len(p)-1] == '\'' {
			p = p[1 : len(p)-1]
		}
		parts = append(parts, p)
	}
	return parts
}

// tomlSetServer writes table.name with command and args, replacing an
// existing table of that name (with its sub-tables) or appending one.
func tomlSetServer(src []byte, table, name, command string, args []string) ([]byte, error) {
	if _, err := tomlValidate(src); err != nil {
		return nil, err
	}
	var quoted []string
	for _, a := range args {
		quoted = append(quoted, strconv.Quote(a))
	}
	section := fmt.Sprintf("[%s.%s]\ncommand = %s\nargs = [%s]\n", table, name, strconv.Quote(command), strings.Join(quoted, ", "))
	var out []byte
	if start, end, found := tomlSection(src, table, name); found {
		if end < len(src) {
			section += "\n" // keep a blank line before the next table
		}
		out = splice(src, start, end, []byte(section))
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
	gotCommand, gotArgs, found, err := tomlServer(out, table, name)
	if err != nil || !found || gotCommand != command || strings.Join(gotArgs, "\x00") != strings.Join(args, "\x00") {
		// For example the server was also defined inline elsewhere.
		return nil, fmt.Errorf("cannot add [%s.%s] safely (the file defines it in another form); edit it by hand", table, name)
	}
	return out, nil
}

// tomlRemoveServer deletes table.name and its sub-tables.
func tomlRemoveServer(src []byte, table, name string) ([]byte, bool, error) {
	if _, err := tomlValidate(src); err != nil {
		return nil, false, err
	}
	start, end, found := tomlSection(src, table, name)
	if !found {
		return src, false, nil
	}
	out := splice(src, start, end, nil)
	if end == len(src) {
		// Install appended the table after a blank line; take that too.
		out = append(bytes.TrimRight(out, "\r\n"), '\n')
		if len(bytes.TrimSpace(out)) == 0 {
			out = nil
		}
	}
	if _, _, still, err := tomlServer(out, table, name); err != nil || still {
		return nil, false, fmt.Errorf("cannot remove [%s.%s] safely; edit it by hand", table, name)
	}
	return out, true, nil
}
