package clients

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzJSONCEdit: for any config that parses, adding our entry gives a file
// that parses and holds it, and removing it gives back the original bytes
// whenever the object keeps its members on lines of their own. The same
// holds through the framing install applies: a CRLF file stays CRLF and
// a BOM stays in front, byte for byte after the round trip.
func FuzzJSONCEdit(f *testing.F) {
	c, _ := Lookup("vscode")
	f.Add("{}")
	f.Add("")
	f.Add("{\"servers\": {}}")
	f.Add("{\n  \"servers\": {\n    \"a\": {\"command\": \"x\"}, // c\n  },\n}\n")
	f.Add("{\"servers\": {\"a\": 1, \"b\": [1,2]}}")
	f.Add("{\n\t/* x */ \"servers\": { /* y */ }\n}")
	f.Add("{\"other\": {\"servers\": 1}, \"servers\": {\"clerk\": {\"command\": \"old\"}}}")
	f.Add("\xef\xbb\xbf{\r\n  \"servers\": {\r\n    \"a\": {}\r\n  }\r\n}\r\n")
	f.Add("{\"servers\": {\"clerk\": {\"command\": \"/old/clerk-mcp\", /* mine */ \"args\": [\"--read-only\"], \"env\": {\"A\": \"1\"}}}}")
	f.Add("{\"servers\": {\"a\": 1}, \"servers\": {}}")
	f.Fuzz(func(t *testing.T, file string) {
		text, frame := unframe([]byte(file))
		if !bytes.Equal(frame.frame(text), []byte(file)) {
			t.Fatalf("framing does not round-trip: %q", file)
		}
		src := string(text)
		if _, err := blank(text); err != nil {
			return
		}
		out, err := c.jsonSet(text, "/bin/clerk-mcp", []string{"serve"})
		if err != nil {
			return // not an object, a duplicate key, "servers" not an object: refused
		}
		if _, err := blank(out); err != nil {
			t.Fatalf("edit made invalid JSONC: %v\n%q\n->\n%q", err, src, out)
		}
		if framed := frame.frame(out); frame.crlf && bytes.Count(framed, []byte("\n")) != bytes.Count(framed, []byte("\r\n")) {
			t.Fatalf("a CRLF file got LF lines:\n%q", framed)
		}
		raw, found, err := lookupMember(out, c.servers, ServerName)
		if err != nil || !found {
			t.Fatalf("entry not found after the edit: %v\n%q", err, out)
		}
		var e stdioEntry
		if json.Unmarshal(raw, &e) != nil || e.Command != "/bin/clerk-mcp" {
			t.Fatalf("entry = %s", raw)
		}
		// Updating our entry keeps it (and the file) valid and idempotent.
		merged, err := c.jsonMerge(out, "/usr/bin/clerk-mcp", []string{"serve"})
		if err != nil {
			t.Fatalf("merge into our own entry: %v\n%q", err, out)
		}
		if again, err := c.jsonMerge(merged, "/usr/bin/clerk-mcp", []string{"serve"}); err != nil || !bytes.Equal(again, merged) {
			t.Fatalf("merge is not idempotent: %v\n%q\n->\n%q", err, merged, again)
		}
		back, err := c.jsonRemove(out)
		if err != nil {
			t.Fatalf("remove after add: %v\n%q", err, out)
		}
		if _, err := blank(back); err != nil {
			t.Fatalf("removal made invalid JSONC: %v\n%q", err, back)
		}
		if _, still, _ := lookupMember(back, c.servers, ServerName); still {
			t.Fatalf("entry still there after removal:\n%q", back)
		}
		// Exact restoration holds when our entry joined existing members,
		// or when install created "servers" in an object with members or
		// in `{}`; an empty "servers" or blank braces change layout.
		if had, _, _ := lookupMember(text, c.servers, ServerName); had == nil && restorable(src) && !bytes.Equal(back, text) {
			t.Fatalf("add then remove did not restore the file:\n%q\n->\n%q\n->\n%q", src, out, back)
		}
	})
}

func restorable(src string) bool {
	blanked, err := blank([]byte(src))
	if err != nil {
		return false
	}
	root, ok := objectAt(blanked, 0)
	if !ok {
		return false
	}
	m, ok, _ := root.lookup([]byte(src), "servers")
	if !ok {
		inside := src[root.start+1 : root.end-1]
		return len(root.members) > 0 || inside == ""
	}
	o, ok := objectAt(blanked, m.valStart)
	return ok && len(o.members) > 0
}

// FuzzTOMLEdit: for any TOML that parses and any UTF-8 command, install's
// edits either refuse or give a file that parses and holds exactly the
// entry meant (their own check compares the whole document); updating is
// idempotent, and removing leaves no entry.
func FuzzTOMLEdit(f *testing.F) {
	f.Add("", "/bin/clerk-mcp")
	f.Add("model = \"o3\"\n\n[mcp_servers.github]\ncommand = \"gh\"\n", "/opt/a\x1bb\a\v\x7f\"\\")
	f.Add("[mcp_servers.clerk]\ncommand = '/old/clerk-mcp' # x\nargs = [\n  \"--read-only\", # keep\n]\n\n[mcp_servers.clerk.env]\nA = \"\"\"x\n[y]\"\"\"\n", "/bin/clerk-mcp")
	f.Add("[mcp_servers]\nclerk = { command = \"/old/clerk-mcp\" }\n", "/bin/clerk-mcp")
	f.Add("\xef\xbb\xbf[a]\r\nb = 1979-05-27 07:32:00Z\r\nc = nan\r\n", "C:\\clerk-mcp.exe")
	f.Fuzz(func(t *testing.T, file, command string) {
		if !utf8.ValidString(command) {
			return
		}
		text, frame := unframe([]byte(file))
		if !bytes.Equal(frame.frame(text), []byte(file)) {
			t.Fatalf("framing does not round-trip: %q", file)
		}
		if _, err := tomlValidate(text); err != nil {
			return
		}
		out, err := tomlSetServer(text, "mcp_servers", ServerName, command, []string{"serve"})
		if err != nil {
			if !errors.Is(err, errByHand) {
				t.Fatalf("set on valid TOML: %v\n%q", err, text)
			}
			return
		}
		if got, args, found, err := tomlServer(out, "mcp_servers", ServerName); err != nil || !found || got != command || len(args) != 1 {
			t.Fatalf("entry after set: %q %q %v %v\n%q", got, args, found, err, out)
		}
		merged, err := tomlMergeServer(out, "mcp_servers", ServerName, "/usr/bin/clerk-mcp", []string{"serve"})
		if err != nil {
			t.Fatalf("merge into our own table: %v\n%q", err, out)
		}
		if again, err := tomlMergeServer(merged, "mcp_servers", ServerName, "/usr/bin/clerk-mcp", []string{"serve"}); err != nil || !bytes.Equal(again, merged) {
			t.Fatalf("merge is not idempotent: %v\n%q\n->\n%q", err, merged, again)
		}
		back, removed, err := tomlRemoveServer(merged, "mcp_servers", ServerName)
		if err != nil || !removed {
			t.Fatalf("remove after set: %v %v\n%q", removed, err, merged)
		}
		if _, _, still, err := tomlServer(back, "mcp_servers", ServerName); err != nil || still {
			t.Fatalf("entry still there after removal (%v):\n%q", err, back)
		}
	})
}
