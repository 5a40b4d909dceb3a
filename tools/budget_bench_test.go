package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
)

// The cost of fitting an answer to the budget and of select, against the
// cost of decoding and encoding the same body once with encoding/json
// (what any JSON-aware handling of the answer costs at least). Results
// are in BENCHMARKS.md ("Answers sized for an agent").

const userSelect = "[].{id: id, email: email_addresses[0].email_address, created: created_at}"

// fakeUsers returns the fake's GET /v1/users answer for limit n.
func fakeUsers(tb testing.TB, fake *fakeclerk.Server, n int) []byte {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/users?limit=%d", fake.URL, n), nil)
	req.Header.Set("Authorization", "Bearer "+fake.SecretKey("development"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return bytes.TrimSpace(body)
}

// benchBodies are user lists: 500 users, and 1 MiB of users (the read
// cap) made of the 500 repeated.
func benchBodies(b *testing.B) map[string][]byte {
	b.Helper()
	users500 := fakeUsers(b, fakeclerk.New(b), 500)
	var items []json.RawMessage
	json.Unmarshal(users500, &items)
	big := []byte{'['}
	for i := 0; ; i++ {
		item := items[i%len(items)]
		if len(big)+len(item)+2 > MaxResponseBody {
			break
		}
		if i > 0 {
			big = append(big, ',')
		}
		big = append(big, item...)
	}
	big = append(big, ']')
	return map[string][]byte{"users=500": users500, "1MiB": big}
}

func BenchmarkAnswer(b *testing.B) {
	bodies := benchBodies(b)
	sel, err := compileSelect(userSelect)
	if err != nil {
		b.Fatal(err)
	}
	m := &masker{}
	for _, name := range []string{"users=500", "1MiB"} {
		body := bodies[name]
		b.Run("baseline_unmarshal_marshal/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var v any
				if err := json.Unmarshal(body, &v); err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("fit/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				out, cuts := fitJSON(normalizeJSON(body), DefaultMaxResultChars)
				if len(cuts) == 0 || len(out) > DefaultMaxResultChars {
					b.Fatal("not cut")
				}
			}
		})
		b.Run("select/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, note := sel.apply(m, body); note != "" {
					b.Fatal(note)
				}
			}
		})
		b.Run("select_and_fit/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				out, _ := sel.apply(m, body)
				fitJSON(out, DefaultMaxResultChars)
			}
		})
	}
}

// BenchmarkAPIResult is the api tool's whole answer step for a 1 MiB
// list (mask, check, fit, marker), without the network.
func BenchmarkAPIResult(b *testing.B) {
	body := benchBodies(b)["1MiB"]
	a := newAPI(Deps{})
	r := &response{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: body}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		res, err := a.result(a.masker(), r, http.MethodGet, "/v1/users", nil)
		if err != nil || res.Truncated == nil {
			b.Fatal(err)
		}
	}
}

// TestAnswerSizes measures what typical answers cost an agent, with and
// without select, at the default budget (run with -v to see the table).
func TestAnswerSizes(t *testing.T) {
	whole := newAPIEnv(t, func(d *Deps) { d.MaxResultChars = 4 * MaxResponseBody })
	whole.login(t)
	budgeted := newAPIEnv(t, nil)
	budgeted.login(t)
	size := func(e *apiEnv, args APIArgs) (int, *Truncation) {
		res := e.ok(t, args)
		text, _ := json.Marshal(res)
		return len(text), res.Truncated
	}
	t.Logf("%-44s %12s %12s %s", "answer", "whole", "budgeted", "marker")
	row := func(name string, args func(e *apiEnv) APIArgs) int {
		w, _ := size(whole, args(whole))
		bud, tr := size(budgeted, args(budgeted))
		mark := "-"
		if tr != nil {
			mark = fmt.Sprintf("kept %d of %d at %s", tr.Kept, tr.Total, tr.Path)
		}
		t.Logf("%-44s %12d %12d %s", name, w, bud, mark)
		if bud > DefaultMaxResultChars {
			t.Errorf("%s: %d characters over the budget", name, bud)
		}
		return w
	}
	for _, n := range []int{10, 100, 500} {
		full := row(fmt.Sprintf("GET /users limit %d", n), func(e *apiEnv) APIArgs { return e.listUsers(n, "") })
		projected := row(fmt.Sprintf("GET /users limit %d, select id/email/created", n), func(e *apiEnv) APIArgs { return e.listUsers(n, userSelect) })
		if projected*5 > full {
			t.Errorf("limit %d: projection %d is not much smaller than %d", n, projected, full)
		}
	}
	row("GET /platform/applications (keys masked)", func(e *apiEnv) APIArgs {
		return APIArgs{Path: "/applications", Query: map[string]any{"include_secret_keys": true}}
	})
	row("... select [].{id: application_id, keys: instances[].secret_key}", func(e *apiEnv) APIArgs {
		return APIArgs{Path: "/applications", Query: map[string]any{"include_secret_keys": true},
			Select: "[].{id: application_id, keys: instances[].secret_key}"}
	})
}
