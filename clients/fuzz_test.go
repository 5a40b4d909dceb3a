package clients

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzJSONCEdit: for any config that parses, adding our entry gives a file
// that parses and holds it, and removing it gives back the original bytes
// whenever the object keeps its members on lines of their own.
func FuzzJSONCEdit(f *testing.F) {
	c, _ := Lookup("vscode")
	f.Add("{}")
	f.Add("")
	f.Add("{\"servers\": {}}")
	f.Add("{\n  \"servers\": {\n    \"a\": {\"command\": \"x\"}, // c\n  },\n}\n")
	f.Add("{\"servers\": {\"a\": 1, \"b\": [1,2]}}")
	f.Add("{\n\t/* x */ \"servers\": { /* y */ }\n}")
	f.Add("{\"other\": {\"servers\": 1}, \"servers\": {\"clerk\": {\"command\": \"old\"}}}")
	f.Fuzz(func(t *testing.T, src string) {
		if _, err := blank([]byte(src)); err != nil {
			return
		}
		entry := c.entry("/bin/clerk-mcp", []string{"serve"})
		out, err := setMember([]byte(src), c.servers, ServerName, entry)
		if err != nil {
			return // not an object, or "servers" is not an object: refused
		}
		if _, err := blank(out); err != nil {
			t.Fatalf("edit made invalid JSONC: %v\n%q\n->\n%q", err, src, out)
		}
		raw, found, err := lookupMember(out, c.servers, ServerName)
		if err != nil || !found {
			t.Fatalf("entry not found after the edit: %v\n%q", err, out)
		}
		var e stdioEntry
		if json.Unmarshal(raw, &e) != nil || e.Command != "/bin/clerk-mcp" {
			t.Fatalf("entry = %s", raw)
		}
		back, removed, err := removeMember(out, c.servers, ServerName)
		if err != nil || !removed {
			t.Fatalf("remove after add: %v %v", removed, err)
		}
		if _, err := blank(back); err != nil {
			t.Fatalf("removal made invalid JSONC: %v\n%q", err, back)
		}
		if _, still, _ := lookupMember(back, c.servers, ServerName); still {
			t.Fatalf("entry still there after removal:\n%q", back)
		}
		// Exact restoration holds when our entry joined existing members;
		// a created "servers" object or a first member changes layout.
		if nonEmptyServers(t, src) {
			if had, _, _ := lookupMember([]byte(src), c.servers, ServerName); had == nil && !bytes.Equal(back, []byte(src)) {
				t.Fatalf("add then remove did not restore the file:\n%q\n->\n%q\n->\n%q", src, out, back)
			}
		}
	})
}

func nonEmptyServers(t *testing.T, src string) bool {
	blanked, err := blank([]byte(src))
	if err != nil {
		return false
	}
	root, ok := objectAt(blanked, 0)
	if !ok {
		return false
	}
	m, ok := root.find("servers")
	if !ok {
		return false
	}
	o, ok := objectAt(blanked, m.valStart)
	return ok && len(o.members) > 0
}
