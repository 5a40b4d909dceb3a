package tools

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
)

// select projects a list answer: each user as the fields asked for, in
// order, and nothing else.
func TestAPISelectProjectsLists(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	res := e.ok(t, e.listUsers(100, "[].{id: id, email: email_addresses[0].email_address, created: created_at}"))
	var users []map[string]any
	if err := json.Unmarshal(res.Body, &users); err != nil || len(users) != 100 {
		t.Fatalf("projection: %v, %d users: %.300s", err, len(users), res.Body)
	}
	for i, u := range users {
		want := fakeclerk.ListedUser(i)
		if len(u) != 3 || u["id"] != want.ID || u["email"] != want.Email || u["created"] == nil {
			t.Fatalf("user %d = %v, want id %s and email %s only", i, u, want.ID, want.Email)
		}
	}
	if res.Truncated != nil || res.SelectNote != "" {
		t.Fatalf("100 projected users: truncated %+v, note %q", res.Truncated, res.SelectNote)
	}
	// 500 users projected to their ids fit whole where the users do not.
	res = e.ok(t, e.listUsers(500, "[].id"))
	var ids []string
	if json.Unmarshal(res.Body, &ids) != nil || len(ids) != 500 || res.Truncated != nil {
		t.Fatalf("500 ids: %d, truncated %+v", len(ids), res.Truncated)
	}
}

// select projects a single object, and works on masked values only: the
// secret keys it picks, and any it rebuilds from pieces, stay masked.
func TestAPISelectProjectsObjectsAndKeepsKeysMasked(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	dev, prod := e.fake.SecretKey("development"), e.fake.SecretKey("production")
	args := APIArgs{Path: "/applications/" + e.fake.ApplicationID(), Query: map[string]any{"include_secret_keys": true},
		Select: "{name: name, envs: instances[].environment_type, keys: instances[].secret_key, joined: join('', instances[].secret_key)}"}
	res := e.ok(t, args)
	var got struct {
		Name   string   `json:"name"`
		Envs   []string `json:"envs"`
		Keys   []string `json:"keys"`
		Joined string   `json:"joined"`
	}
	if err := json.Unmarshal(res.Body, &got); err != nil || got.Name != "Fake App" || strings.Join(got.Envs, ",") != "development,production" || len(got.Keys) != 2 {
		t.Fatalf("projection of one application: %v: %s", err, res.Body)
	}
	for _, k := range got.Keys {
		if !strings.Contains(k, "****") {
			t.Errorf("a secret key is not masked: %s", k)
		}
	}
	noLeak(t, "projected keys", shown(res, nil), dev, prod)

	// A key split across fields, which masking cannot see in the answer,
	// is masked once the expression joins it.
	e.fake.Handle("GET /v1/platform/pieces", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"a": dev[:5], "b": dev[5:]})
	})
	res = e.ok(t, APIArgs{Path: "/pieces", Select: "join('', [a, b])"})
	noLeak(t, "a key rebuilt by select", shown(res, nil), dev)
	if !strings.Contains(string(res.Body), "sk_test_****") {
		t.Fatalf("the rebuilt key is not masked as a key: %s", res.Body)
	}
}

// An expression that does not compile is invalid_input with the
// library's message, and nothing reaches Clerk: no key resolution, no
// Backend call.
func TestAPISelectRefusedBeforeSending(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	before := e.fake.Counts()
	for _, tc := range []struct{ expr, want string }{
		{"[].{id: id", "SyntaxError"},
		{"[?id == ]", "SyntaxError"},
		{"[].nope(id)", "nope()"},
		{"[@,@][] | [@,@][] | [@,@][] | [@,@][] | [@,@][] | [@,@][] | [@,@][]", "copies the answer"},
		{strings.Repeat("a.", 1500) + "a", "longer than"},
	} {
		_, err := e.call(t, e.listUsers(10, tc.expr))
		var te *envelope.Error
		if !asError(err, &te) || te.Reason != envelope.ReasonInvalidInput || !strings.Contains(te.Message, tc.want) {
			t.Fatalf("select %.40q: %v, want invalid_input mentioning %q", tc.expr, err, tc.want)
		}
	}
	if after := e.fake.Counts(); after.Backend != before.Backend || after.Platform != before.Platform {
		t.Fatalf("requests reached the fake: backend %d -> %d, platform %d -> %d", before.Backend, after.Backend, before.Platform, after.Platform)
	}
}

// An expression that compiles but fails on the answer, or matches
// nothing, leaves the answer whole (the call was made) with a note.
func TestAPISelectFailureKeepsTheAnswer(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	res := e.ok(t, e.listUsers(2, "abs(@)"))
	var users []any
	if json.Unmarshal(res.Body, &users) != nil || len(users) != 2 || !strings.Contains(res.SelectNote, "not applied") {
		t.Fatalf("failed select: note %q, body %.200s", res.SelectNote, res.Body)
	}
	res = e.ok(t, e.listUsers(2, "data[].id"))
	if string(res.Body) != "null" || !strings.Contains(res.SelectNote, "JSON array") {
		t.Fatalf("select on a field a list does not have: note %q, body %s", res.SelectNote, res.Body)
	}
	res = e.ok(t, APIArgs{Path: "/applications", Select: "pad_left('', `100000000`)"})
	if !strings.Contains(res.SelectNote, "limit") {
		t.Fatalf("a 100 MB string was made: note %q", res.SelectNote)
	}
}

// A projection over the budget is cut like any answer, and the remedy
// asks to narrow it.
func TestAPISelectOverBudgetIsCut(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	res := e.ok(t, e.listUsers(500, "[].{id: id, emails: email_addresses}"))
	tr := res.Truncated
	if tr == nil || tr.Total != 500 || tr.Path != "@" || !strings.Contains(tr.Remedy, "Narrow `select`") {
		t.Fatalf("marker = %+v", tr)
	}
	if text, _ := json.Marshal(res); len(text) > DefaultMaxResultChars || !json.Valid(res.Body) {
		t.Fatalf("result of %d characters", len(text))
	}
}

// fanout counts copies, not fields: a wide projection is fine.
func TestSelectFanout(t *testing.T) {
	fields := make([]string, 40)
	for i := range fields {
		fields[i] = fmt.Sprintf("f%d: f%d", i, i)
	}
	for _, tc := range []struct {
		expr string
		ok   bool
	}{
		{"data[].{" + strings.Join(fields, ", ") + "}", true},
		{"[].{id: id, email: email_addresses[0].email_address, created: created_at}", true},
		{"sort_by(@, &created_at)[:5].[id, first_name, last_name]", true},
		{"[@,@,@,@,@,@,@,@][] | [@,@,@,@,@,@,@,@][] | [@,@][]", false},
	} {
		if _, err := compileSelect(tc.expr); (err == nil) != tc.ok {
			t.Errorf("compileSelect(%q) = %v, want ok=%v", tc.expr, err, tc.ok)
		}
	}
}
