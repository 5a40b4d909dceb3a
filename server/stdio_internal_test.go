package server

import (
	"strings"
	"testing"
)

// headScanner finds the top-level id and method of an over-long message
// however it is cut into pieces and wherever the id sits.
func TestHeadScanner(t *testing.T) {
	big := strings.Repeat(`x\"y,}{[`, 1000)
	for _, tc := range []struct {
		line, id, method string
	}{
		{`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"arguments":{"q":"` + big + `"}}}`, `7`, `"tools/call"`},
		{`{"method":"tools/call","params":{"id":1,"method":"x","arguments":{"q":"` + big + `"}},"jsonrpc":"2.0","id":"abc"}`, `"abc"`, `"tools/call"`},
		{` { "id" : -1.5e3 , "method" : "ping" } `, `-1.5e3`, `"ping"`},
		{`{"params":["` + big + `"],"id":"a\"b"}`, `"a\"b"`, ``},
		{`{"id":{"nested":1},"method":"m"}`, `{"nested":1}`, `"m"`},
		{`{"id":null}`, `null`, ``},
		{`{"idx":1,"method_":"m"}`, ``, ``},
		{`["id",1]`, ``, ``},
		{`{"id":"` + strings.Repeat("z", 1000) + `","method":"m"}`, ``, `"m"`},
		{`{"id":12`, ``, ``}, // cut off before the value ends
	} {
		for _, chunk := range []int{1, 7, 4096, len(tc.line)} {
			var h headScanner
			for p := tc.line; len(p) > 0; {
				n := min(chunk, len(p))
				h.feed([]byte(p[:n]))
				p = p[n:]
			}
			if id, method := h.result(); string(id) != tc.id || string(method) != tc.method {
				t.Errorf("%.60q in chunks of %d: id %q method %q, want %q %q", tc.line, chunk, id, method, tc.id, tc.method)
			}
		}
	}
}
