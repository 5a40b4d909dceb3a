package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
)

// listUsers is GET /users with limit n through the api tool.
func (e *apiEnv) listUsers(n int, sel string) APIArgs {
	args := e.users()
	args.Query = map[string]any{"limit": float64(n)}
	args.Select = sel
	return args
}

// stripTimes removes the timestamps from a decoded answer: the fake
// stamps users with the time of the request.
func stripTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasSuffix(k, "_at") {
				delete(x, k)
			} else {
				stripTimes(e)
			}
		}
	case []any:
		for _, e := range x {
			stripTimes(e)
		}
	}
	return v
}

// A list of 500 users is over the budget: the answer is still JSON, its
// first items are whole, and the marker says how many of how many were
// kept where, naming select and limit/offset.
func TestAPIListOverBudgetIsCutAsJSON(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	res := e.ok(t, e.listUsers(500, ""))
	text, _ := json.Marshal(res)
	if len(text) > DefaultMaxResultChars {
		t.Fatalf("result is %d characters, over the budget of %d", len(text), DefaultMaxResultChars)
	}
	var users []any
	if err := json.Unmarshal(res.Body, &users); err != nil {
		t.Fatalf("the cut body is not JSON: %v", err)
	}
	tr := res.Truncated
	if tr == nil || tr.Total != 500 || tr.Kept != len(users) || tr.Path != "@" || tr.Kept < 10 || tr.TotalAtLeast {
		t.Fatalf("marker = %+v with %d users shown, want kept = shown of 500 at @", tr, len(users))
	}
	for _, want := range []string{"`select`", "limit", "offset", fmt.Sprint(tr.Kept)} {
		if !strings.Contains(tr.Remedy, want) {
			t.Errorf("remedy does not name %s: %s", want, tr.Remedy)
		}
	}
	// The kept users are whole: the same as a page of that many users.
	whole := newAPIEnv(t, func(d *Deps) { d.MaxResultChars = 4 * MaxResponseBody })
	whole.login(t)
	ref := whole.ok(t, whole.listUsers(tr.Kept, ""))
	var want []any
	json.Unmarshal(ref.Body, &want)
	got, _ := json.Marshal(stripTimes(users))
	exp, _ := json.Marshal(stripTimes(want))
	if ref.Truncated != nil || !bytes.Equal(got, exp) {
		t.Fatalf("the kept users differ from a page of %d users", tr.Kept)
	}
	for i, u := range users {
		if id := u.(map[string]any)["id"]; id != fakeclerk.ListedUser(i).ID {
			t.Fatalf("user %d is %v, want %s: the first items must be kept", i, id, fakeclerk.ListedUser(i).ID)
		}
	}
}

// A 5 MB answer is read up to the cap only, and what was read comes back
// as valid JSON (its complete items), marked as cut with a total that is
// a lower bound, within the budget.
func TestAPIHugeBodyIsBoundedAndValidJSON(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	item := `{"id":"user_x","name":"` + strings.Repeat("a", 200) + `","tags":["x","y"]}`
	e.fake.Handle("GET /v1/platform/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":[`))
		for sent := 0; sent < 5<<20; sent += len(item) + 1 {
			if _, err := w.Write([]byte(item + ",")); err != nil {
				return
			}
		}
		w.Write([]byte(item + `],"total_count":1}`))
	})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := e.ok(t, APIArgs{Path: "/big"})
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("a 5 MB answer cost %d MiB of allocations", alloc>>20)
	}
	text, _ := json.Marshal(res)
	if len(text) > DefaultMaxResultChars {
		t.Fatalf("result is %d characters", len(text))
	}
	var body struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(res.Body, &body); err != nil || len(body.Data) == 0 {
		t.Fatalf("body is not the JSON start of the answer: %v: %.200s", err, res.Body)
	}
	for _, it := range body.Data {
		if len(it) != 3 || len(it["name"].(string)) != 200 {
			t.Fatalf("an item was not kept whole: %v", it)
		}
	}
	tr := res.Truncated
	if tr == nil || !tr.TotalAtLeast || tr.Kept != len(body.Data) || tr.Path != "data" || !strings.Contains(tr.Remedy, "reads") {
		t.Fatalf("marker = %+v for %d items shown", tr, len(body.Data))
	}
}

// A non-JSON answer over the budget is cut at a character boundary, with
// the same marker.
func TestAPITextBodyIsCutAtACharacter(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	page := strings.Repeat("<p>héllo wörld €</p>\n", 5000)
	e.fake.Handle("GET /v1/platform/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(page))
	})
	res := e.ok(t, APIArgs{Path: "/page"})
	text, _ := json.Marshal(res)
	if len(text) > DefaultMaxResultChars || !strings.HasPrefix(page, res.BodyText) || len(res.BodyText) < 1000 {
		t.Fatalf("result of %d characters with body_text of %d", len(text), len(res.BodyText))
	}
	tr := res.Truncated
	if tr == nil || tr.Path != "body_text" || tr.Total != len([]rune(page)) || tr.Kept != len([]rune(res.BodyText)) {
		t.Fatalf("marker = %+v", tr)
	}
}

// A Clerk error with 10,000-character messages keeps its envelope (reason,
// remedy, status, clerk_trace_id) and stays under 8,000 characters; errors[]
// is cut, as JSON.
func TestAPILongClerkErrorKeepsItsEnvelope(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	long := strings.Repeat("The request was refused because ", 320)[:10_000]
	e.fake.Handle("GET /v1/platform/refused", func(w http.ResponseWriter, r *http.Request) {
		var errs []map[string]string
		for i := range 5 {
			errs = append(errs, map[string]string{"code": fmt.Sprintf("code_%d", i), "message": long, "long_message": long})
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(map[string]any{"errors": errs, "clerk_trace_id": "trace_long1"})
	})
	for _, via := range []string{"Call", "tool"} {
		var err error
		if via == "Call" {
			_, err = e.call(t, APIArgs{Path: "/refused"})
		} else {
			_, err = budgeted(e.api.tool(), DefaultMaxResultChars).Handler(context.Background(), json.RawMessage(`{"path":"/refused"}`))
		}
		out := envelope.Marshal(err)
		if len(out) > maxErrorChars {
			t.Fatalf("%s: error envelope is %d characters", via, len(out))
		}
		te := envelope.From(err)
		if te.Reason != envelope.ReasonAPIError || te.Status != 422 || te.TraceID != "trace_long1" ||
			te.Remedy != "Fix the request according to errors[] and retry." {
			t.Fatalf("%s: envelope lost a field: %s", via, out)
		}
		var errs []map[string]string
		if err := json.Unmarshal(te.Errors, &errs); err != nil || len(errs) == 0 || errs[0]["code"] != "code_0" {
			t.Fatalf("%s: errors[] = %.300s (%v)", via, te.Errors, err)
		}
		if !strings.Contains(te.Message, "errors[] cut") {
			t.Errorf("%s: the message does not say errors[] was cut: %.300s", via, te.Message)
		}
	}
}

// Every tool's result stays within the budget it declares, at the default
// and at the smallest budget, and within 8,000 characters when it fails.
func TestEveryToolResultWithinDeclaredBudget(t *testing.T) {
	for _, budget := range []int{DefaultMaxResultChars, MinMaxResultChars} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			var deps *Deps
			e := newAPIEnv(t, func(d *Deps) { d.MaxResultChars = budget; deps = d })
			e.login(t)
			byName := map[string]Tool{}
			for _, tl := range All(*deps) {
				if tl.MaxResultChars != budget {
					t.Fatalf("%s declares %d, want %d", tl.Name, tl.MaxResultChars, budget)
				}
				byName[tl.Name] = tl
			}
			calls := []struct{ tool, args string }{
				{"whoami", `{}`},
				{"doctor", `{}`},
				{"api", `{"path":"/applications","query":{"include_secret_keys":true}}`},
				{"api", fmt.Sprintf(`{"target":"backend","path":"/users","application_id":%q,"query":{"limit":500}}`, e.fake.ApplicationID())},
				{"api", fmt.Sprintf(`{"target":"backend","path":"/users","application_id":%q,"query":{"limit":500},"select":"[].email_addresses"}`, e.fake.ApplicationID())},
				{"api", `{"path":"/applications/nope"}`},
				{"api_endpoints", `{"query":"user","limit":50}`},
				{"api_endpoints", `{"operation_id":"CreateUser"}`},
				{"api_endpoints", `{"method":"POST","path":"/platform/applications"}`},
				{"api_endpoints", `{"query":""}`},
			}
			for _, c := range calls {
				out, err := byName[c.tool].Handler(context.Background(), json.RawMessage(c.args))
				if err != nil {
					if n := len(envelope.Marshal(err)); n > min(budget, maxErrorChars) {
						t.Errorf("%s %s: error of %d characters", c.tool, c.args, n)
					}
					continue
				}
				text, _ := json.Marshal(out)
				if len(text) > budget || !json.Valid(text) {
					t.Errorf("%s %s: result of %d characters, budget %d", c.tool, c.args, len(text), budget)
				}
				var v struct {
					Truncated *Truncation `json:"truncated"`
				}
				json.Unmarshal(text, &v)
				if v.Truncated != nil && (v.Truncated.Remedy == "" || v.Truncated.Kept > v.Truncated.Total) {
					t.Errorf("%s %s: marker %+v", c.tool, c.args, v.Truncated)
				}
			}
		})
	}
}

// normalizeJSON writes what encoding/json writes for a json.RawMessage,
// so that sizes measured on it hold for the server's output.
func TestNormalizeJSONMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `{"a": [1, 2, {"b": "c d"}]}`, "{\n  \"a\" : \"<b>&amp;</b>\"\n}\n",
		`["\u2028 and \u2029", "\"quoted\" \\ <x>"]`, "[\"raw \u2028 and \u2029 and é\"]",
		`"just a string"`, ` 12.5e3 `, `[true, false, null]`,
	} {
		want, err := json.Marshal(json.RawMessage(in))
		if err != nil {
			t.Fatal(err)
		}
		if got := normalizeJSON([]byte(strings.TrimSpace(in))); !bytes.Equal(got, want) {
			t.Errorf("normalizeJSON(%q) = %s, want %s", in, got, want)
		}
	}
}

// fitJSON keeps JSON valid and within room, keeps first items, and makes
// paths a JMESPath expression can use.
func TestFitJSONCutsAsJSON(t *testing.T) {
	items := make([]string, 100)
	for i := range items {
		items[i] = fmt.Sprintf(`{"id":%d,"name":"user %d"}`, i, i)
	}
	list := "[" + strings.Join(items, ",") + "]"
	for _, tc := range []struct {
		name, doc string
		room      int
		path      string
		unit      string
	}{
		{"root list", list, 500, "@", "items"},
		{"nested list", `{"data":` + list + `,"total_count":100}`, 500, "data", "items"},
		{"odd key", `{"a b":` + list + `}`, 500, `"a b"`, "items"},
		{"list in an item", `{"data":[{"id":1,"tags":` + list + `}]}`, 500, "data[0].tags", "items"},
		{"string", `{"id":"x","notes":"` + strings.Repeat("é<\\\"", 2000) + `"}`, 300, "notes", "characters"},
		{"object", `{` + strings.TrimSuffix(strings.Repeat(`"k":1,`, 2000), ",") + `}`, 300, "@", "fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := normalizeJSON([]byte(tc.doc))
			out, cuts := fitJSON(doc, tc.room)
			if len(out) > tc.room || !json.Valid(out) {
				t.Fatalf("%d bytes, valid=%v: %.200s", len(out), json.Valid(out), out)
			}
			if len(cuts) == 0 || cuts[0].Path != tc.path || cuts[0].unit() != tc.unit || cuts[0].Kept >= cuts[0].Total {
				t.Fatalf("cuts = %+v, want the first at %s counting %s", cuts, tc.path, tc.unit)
			}
			if tc.unit == "items" && !bytes.Contains(out, []byte(items[0])) {
				t.Fatalf("the first item is not whole: %.200s", out)
			}
		})
	}
}

// Any document, cut to any room, stays valid JSON within the room.
func FuzzFitJSON(f *testing.F) {
	f.Add(`{"data":[{"id":1},{"id":2}],"s":"`+strings.Repeat("x", 100)+`"}`, 20)
	f.Add(`[[1,2,3],[4,5,6],"\u00e9\"\\"]`, 5)
	f.Add(`"`+strings.Repeat("\\u2028", 30)+`"`, 40)
	f.Fuzz(func(t *testing.T, doc string, room int) {
		if !json.Valid([]byte(doc)) || room < 4 || room > 1<<20 {
			return
		}
		norm := normalizeJSON(bytes.TrimSpace([]byte(doc)))
		out, cuts := fitJSON(norm, room)
		if !json.Valid(out) {
			t.Fatalf("invalid output %q from %q", out, norm)
		}
		if len(out) > room && string(out) != "null" {
			t.Fatalf("%d bytes for room %d: %q", len(out), room, out)
		}
		if len(norm) <= room && (len(cuts) > 0 || !bytes.Equal(out, norm)) {
			t.Fatalf("a document that fits was cut")
		}
	})
}

// Any prefix of a document is salvaged as valid JSON or refused.
func FuzzSalvageJSON(f *testing.F) {
	f.Add(`{"data":[{"id":1,"s":"a,b]"},{"id":2}],"n":[1,2,3]}`, 30)
	f.Add(`[1,2,3,[4,[5,{"a":"\"}"}]]]`, 17)
	f.Fuzz(func(t *testing.T, doc string, cut int) {
		if !json.Valid([]byte(doc)) || cut < 0 || cut > len(doc) {
			return
		}
		out, _, ok := salvageJSON([]byte(strings.TrimSpace(doc))[:min(cut, len(strings.TrimSpace(doc)))])
		if ok && !json.Valid(out) {
			t.Fatalf("salvaged %q from %q", out, doc[:cut])
		}
	})
}
