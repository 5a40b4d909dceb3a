package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
)

// fakeAsker plays the MCP client's side of a confirmation: it answers
// every question with answer (or fails with err) and records what it was
// asked.
type fakeAsker struct {
	mu       sync.Mutex
	answer   Answer
	err      error
	ids      []string
	messages []string
}

func (f *fakeAsker) Confirm(_ context.Context, id, message string) (Answer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, id)
	f.messages = append(f.messages, message)
	return f.answer, f.err
}

func (f *fakeAsker) OpenURL(context.Context, string, string, string) (Answer, error) {
	return AnswerUnsupported, nil
}

func (f *fakeAsker) asked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ids)
}

// liveKeyEnv is an api tool whose CLERK_SECRET_KEY is the fake
// application's production (sk_live_) key.
func liveKeyEnv(t *testing.T, configure func(*Deps)) *apiEnv {
	t.Helper()
	e := newAPIEnv(t, configure)
	e.api.d.Config.SecretKey = e.fake.SecretKey("production")
	return e
}

func deleteUser(id string) APIArgs {
	return APIArgs{Target: TargetBackend, Method: http.MethodDelete, Path: "/users/" + id}
}

func (e *apiEnv) callWith(ask Asker, args APIArgs) (*APIResult, error) {
	return e.api.Call(WithAsker(context.Background(), ask), args)
}

// With a client that can ask, a write to production is sent after the
// user's yes, and the question names the method, API, path and instance.
func TestConfirmElicitedYesSends(t *testing.T) {
	e := liveKeyEnv(t, nil)
	ask := &fakeAsker{answer: AnswerAccept}
	res, err := e.callWith(ask, deleteUser(fakeclerk.DefaultUser.ID))
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("accepted delete: %+v, %v", res, err)
	}
	if n := e.fake.Counts().DeletedUsers; n != 1 {
		t.Fatalf("deleted %d users, want 1", n)
	}
	if ask.asked() != 1 {
		t.Fatalf("asked %d times, want 1", ask.asked())
	}
	msg := ask.messages[0]
	for _, want := range []string{"DELETE", "/v1/users/" + fakeclerk.DefaultUser.ID, "Backend API", "production"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the question does not say %q: %s", want, msg)
		}
	}
	noLeak(t, "question", msg, e.fake.SecretKey("production"))
}

// No or cancel: declined, and nothing reaches Clerk.
func TestConfirmElicitedNoSendsNothing(t *testing.T) {
	for _, answer := range []Answer{AnswerDecline, AnswerCancel} {
		e := liveKeyEnv(t, nil)
		_, err := e.callWith(&fakeAsker{answer: answer}, deleteUser(fakeclerk.DefaultUser.ID))
		if r := reason(t, err); r != envelope.ReasonDeclined {
			t.Fatalf("answer %d: reason %s, want declined", answer, r)
		}
		if c := e.fake.Counts(); c.Backend != 0 || c.DeletedUsers != 0 {
			t.Fatalf("answer %d: Clerk received %d Backend requests", answer, c.Backend)
		}
	}
}

// confirmationOf returns the confirmation of a confirmation_required error.
func confirmationOf(t *testing.T, err error) *envelope.Confirmation {
	t.Helper()
	var te *envelope.Error
	if !errors.As(err, &te) || te.Reason != envelope.ReasonConfirmationRequired || te.Confirmation == nil {
		t.Fatalf("got %v, want confirmation_required with a confirmation", err)
	}
	c := te.Confirmation
	if !strings.HasPrefix(c.Token, "cfm_") || len(c.Token) < 40 || c.Summary == "" {
		t.Fatalf("confirmation = %+v", c)
	}
	return c
}

// Without elicitation: confirmation_required with a summary and a token,
// nothing sent; the same call with the token is sent; the token does not
// work twice.
func TestConfirmTokenWithoutElicitation(t *testing.T) {
	e := liveKeyEnv(t, nil)
	args := deleteUser(fakeclerk.DefaultUser.ID)
	_, err := e.callWith(&fakeAsker{answer: AnswerUnsupported}, args)
	c := confirmationOf(t, err)
	if n := e.fake.Counts().Backend; n != 0 {
		t.Fatalf("confirmation_required sent %d requests", n)
	}
	if !strings.Contains(c.Summary, "DELETE /v1/users/"+fakeclerk.DefaultUser.ID) {
		t.Errorf("summary: %s", c.Summary)
	}
	args.Confirm = c.Token
	// No Asker at all: a client that never declared elicitation.
	res, err := e.call(t, args)
	if err != nil || res.Status != http.StatusOK || e.fake.Counts().DeletedUsers != 1 {
		t.Fatalf("call with the token: %+v, %v", res, err)
	}
	// Reuse: refused, with a fresh token, and nothing sent.
	before := e.fake.Counts().Backend
	_, err = e.call(t, args)
	again := confirmationOf(t, err)
	if again.Token == c.Token || !strings.Contains(err.Error(), "not accepted") {
		t.Fatalf("reused token: %v", err)
	}
	if e.fake.Counts().Backend != before {
		t.Fatal("a reused token sent the request again")
	}
}

// A token is bound to the exact request: another body (or path) is
// refused, and the token is spent by the attempt. Spacing and key order
// of the same body do not matter.
func TestConfirmTokenBoundToRequest(t *testing.T) {
	e := liveKeyEnv(t, nil)
	create := func(body string) APIArgs {
		return APIArgs{Target: TargetBackend, Method: http.MethodPost, Path: "/users", Body: json.RawMessage(body)}
	}
	_, err := e.call(t, create(`{"first_name":"Ada","email_address":["ada@example.com"]}`))
	c := confirmationOf(t, err)
	other := create(`{"first_name":"Eve","email_address":["eve@example.com"]}`)
	other.Confirm = c.Token
	if _, err := e.call(t, other); reason(t, err) != envelope.ReasonConfirmationRequired {
		t.Fatalf("token for another body: %v", err)
	}
	same := create(`{"first_name":"Ada","email_address":["ada@example.com"]}`)
	same.Confirm = c.Token
	if _, err := e.call(t, same); reason(t, err) != envelope.ReasonConfirmationRequired {
		t.Fatalf("a token shown with another request must be spent: %v", err)
	}
	if n := e.fake.Counts().Backend; n != 0 {
		t.Fatalf("%d requests sent", n)
	}
	_, err = e.call(t, create(`{"first_name":"Ada","email_address":["ada@example.com"]}`))
	reordered := create(`{ "email_address": [ "ada@example.com" ], "first_name": "Ada" }`)
	reordered.Confirm = confirmationOf(t, err).Token
	if res, err := e.call(t, reordered); err != nil || e.fake.Counts().CreatedUsers != 1 {
		t.Fatalf("same body, other spelling: %+v, %v", res, err)
	}
	// Another path with a valid token of a delete.
	_, err = e.call(t, deleteUser(fakeclerk.ListedUser(1).ID))
	wrongPath := deleteUser(fakeclerk.ListedUser(2).ID)
	wrongPath.Confirm = confirmationOf(t, err).Token
	if _, err := e.call(t, wrongPath); reason(t, err) != envelope.ReasonConfirmationRequired {
		t.Fatalf("token for another path: %v", err)
	}
}

// A token expires 5 minutes after it was issued.
func TestConfirmTokenExpires(t *testing.T) {
	e := liveKeyEnv(t, nil)
	now := time.Now()
	var mu sync.Mutex
	e.api.confirms.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	args := deleteUser(fakeclerk.DefaultUser.ID)
	_, err := e.call(t, args)
	args.Confirm = confirmationOf(t, err).Token
	mu.Lock()
	now = now.Add(ConfirmTTL + time.Second)
	mu.Unlock()
	if _, err := e.call(t, args); reason(t, err) != envelope.ReasonConfirmationRequired {
		t.Fatalf("expired token: %v", err)
	}
	if n := e.fake.Counts().Backend; n != 0 {
		t.Fatalf("expired token sent %d requests", n)
	}
	// Just inside the lifetime, a fresh one works.
	_, err = e.call(t, deleteUser(fakeclerk.DefaultUser.ID))
	args.Confirm = confirmationOf(t, err).Token
	mu.Lock()
	now = now.Add(ConfirmTTL - time.Second)
	mu.Unlock()
	if _, err := e.call(t, args); err != nil {
		t.Fatalf("token within its lifetime: %v", err)
	}
}

// The tokens kept are bounded: an agent looping on confirmation_required
// cannot grow the server's memory.
func TestConfirmTokensBounded(t *testing.T) {
	var c confirmations
	first := c.issue("d0")
	for i := range 3 * maxPendingConfirms {
		c.issue("d" + string(rune('a'+i%26)))
	}
	if n := len(c.tokens); n > maxPendingConfirms {
		t.Fatalf("%d tokens kept, want at most %d", n, maxPendingConfirms)
	}
	if c.redeem(first, "d0") {
		t.Fatal("the oldest token survived eviction")
	}
}

// --read-only refuses a write before any confirmation is asked for.
func TestConfirmReadOnlyFirst(t *testing.T) {
	e := liveKeyEnv(t, func(d *Deps) { d.ReadOnly = true })
	ask := &fakeAsker{answer: AnswerAccept}
	if _, err := e.callWith(ask, deleteUser(fakeclerk.DefaultUser.ID)); reason(t, err) != envelope.ReasonReadOnly {
		t.Fatalf("read-only delete: %v", err)
	}
	if ask.asked() != 0 || e.fake.Counts().Backend != 0 {
		t.Fatalf("read-only: asked %d times, %d requests", ask.asked(), e.fake.Counts().Backend)
	}
	args := deleteUser(fakeclerk.DefaultUser.ID)
	args.DryRun = true
	if _, err := e.api.DryRun(context.Background(), args); reason(t, err) != envelope.ReasonReadOnly {
		t.Fatalf("read-only dry run of a delete: %v", err)
	}
}

// The policies: writes confirms a write to a development instance, which
// production lets through; never sends a production delete unasked; no
// policy confirms a GET.
func TestConfirmPolicies(t *testing.T) {
	devKey := func(p ConfirmPolicy) *apiEnv {
		e := newAPIEnv(t, func(d *Deps) { d.Confirm = p })
		e.api.d.Config.SecretKey = e.fake.SecretKey("development")
		return e
	}
	ask := func() *fakeAsker { return &fakeAsker{answer: AnswerUnsupported} }
	create := APIArgs{Target: TargetBackend, Method: http.MethodPost, Path: "/users", Body: json.RawMessage(`{"first_name":"Ada"}`)}

	e := devKey(ConfirmWrites)
	if _, err := e.callWith(ask(), create); reason(t, err) != envelope.ReasonConfirmationRequired {
		t.Fatalf("writes, development POST: %v", err)
	}
	e = devKey(ConfirmProduction)
	if _, err := e.callWith(ask(), create); err != nil || e.fake.Counts().CreatedUsers != 1 {
		t.Fatalf("production policy, development POST: %v", err)
	}
	e = liveKeyEnv(t, func(d *Deps) { d.Confirm = ConfirmNever })
	a := ask()
	if _, err := e.callWith(a, deleteUser(fakeclerk.DefaultUser.ID)); err != nil || a.asked() != 0 {
		t.Fatalf("never, production DELETE: %v (asked %d)", err, a.asked())
	}
	for _, p := range []ConfirmPolicy{ConfirmProduction, ConfirmWrites} {
		e = liveKeyEnv(t, func(d *Deps) { d.Confirm = p })
		a := ask()
		if _, err := e.callWith(a, APIArgs{Target: TargetBackend, Path: "/users"}); err != nil || a.asked() != 0 {
			t.Fatalf("%s, GET: %v (asked %d)", p, err, a.asked())
		}
	}
	if _, err := ParseConfirmPolicy("sometimes"); err == nil {
		t.Fatal("ParseConfirmPolicy accepted sometimes")
	}
}

// Production detection, without sending: an sk_live_ key, instance
// production, an instance id whose resolved key is live, a Platform path
// under the production instance, and application deletes and key
// rotations.
func TestConfirmProductionDetection(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	app := e.fake.ApplicationID()
	cases := []struct {
		name      string
		secretKey string // CLERK_SECRET_KEY: "live", "test" or none
		args      APIArgs
		want      bool
	}{
		{"sk_live_ key", "live", deleteUser("user_1"), true},
		{"sk_test_ key", "test", deleteUser("user_1"), false},
		{"instance production", "", APIArgs{Target: TargetBackend, Method: "DELETE", Path: "/users/u", ApplicationID: app, Instance: "production"}, true},
		{"instance development", "", APIArgs{Target: TargetBackend, Method: "DELETE", Path: "/users/u", ApplicationID: app}, false},
		{"production instance id", "", APIArgs{Target: TargetBackend, Method: "DELETE", Path: "/users/u", ApplicationID: app, Instance: "ins_prod1"}, true},
		{"development instance id", "", APIArgs{Target: TargetBackend, Method: "DELETE", Path: "/users/u", ApplicationID: app, Instance: "ins_dev1"}, false},
		{"platform, production instance", "", APIArgs{Method: "POST", Path: "/applications/" + app + "/instances/production/users/u/ban"}, true},
		{"platform, development instance", "", APIArgs{Method: "POST", Path: "/applications/" + app + "/instances/development/users/u/ban"}, false},
		{"platform, instance id", "", APIArgs{Method: "PATCH", Path: "/applications/" + app + "/instances/ins_x/config", Body: json.RawMessage(`{}`)}, true},
		{"application delete", "", APIArgs{Method: "DELETE", Path: "/applications/" + app}, true},
		{"key rotation", "", APIArgs{Method: "POST", Path: "/applications/" + app + "/rotate_secret_keys"}, true},
		{"development key rotation", "", APIArgs{Method: "POST", Path: "/applications/" + app + "/instances/development/rotate_secret_keys"}, true},
		{"application rename", "", APIArgs{Method: "PATCH", Path: "/applications/" + app, Body: json.RawMessage(`{"name":"x"}`)}, false},
		{"application transfer", "", APIArgs{Method: "POST", Path: "/applications/" + app + "/transfers", Body: json.RawMessage(`{}`)}, true},
		{"transfer cancel", "", APIArgs{Method: "DELETE", Path: "/applications/" + app + "/transfers/t_1"}, true},
		{"production domain change", "", APIArgs{Method: "PATCH", Path: "/applications/" + app + "/domain", Body: json.RawMessage(`{"name":"evil.example"}`)}, true},
		{"domain delete", "", APIArgs{Method: "DELETE", Path: "/applications/" + app + "/domains/example.com"}, true},
		{"DNS re-check", "", APIArgs{Method: "POST", Path: "/applications/" + app + "/domains/example.com/dns_check"}, false},
		{"accountless claim", "", APIArgs{Method: "POST", Path: "/accountless_applications/claim", Body: json.RawMessage(`{}`)}, true},
		{"GET of production", "", APIArgs{Target: TargetBackend, Path: "/users", ApplicationID: app, Instance: "production"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.api.d.Config.SecretKey = map[string]string{"live": e.fake.SecretKey("production"), "test": e.fake.SecretKey("development")}[tc.secretKey]
			r, err := e.api.request(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			need, err := e.api.needsConfirmation(context.Background(), e.api.masker(), r, true)
			if err != nil {
				t.Fatal(err)
			}
			if need.need != tc.want {
				t.Fatalf("needs confirmation = %v (%s), want %v", need.need, need.why, tc.want)
			}
		})
	}
	if n := e.fake.Counts().Backend; n != 0 {
		t.Fatalf("deciding sent %d Backend requests", n)
	}
}

// errInputRequired stands for the server's input-required round trip:
// the client answers in a later call.
var errInputRequired = errors.New("input required")

// The id of a question is random, the same when the call is retried
// after an input-required round trip, and new once the question was
// answered: an answer for one question authorizes nothing else.
func TestConfirmQuestionID(t *testing.T) {
	e := liveKeyEnv(t, nil)
	ask := &fakeAsker{err: errInputRequired}
	args := deleteUser(fakeclerk.DefaultUser.ID)
	if _, err := e.callWith(ask, args); !errors.Is(err, errInputRequired) {
		t.Fatalf("first round: %v", err)
	}
	ask.err, ask.answer = nil, AnswerAccept
	if _, err := e.callWith(ask, args); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if ask.ids[0] != ask.ids[1] || len(ask.ids[0]) < 40 {
		t.Fatalf("ids across the retry: %q", ask.ids)
	}
	other := deleteUser(fakeclerk.ListedUser(3).ID)
	if _, err := e.callWith(ask, other); err != nil {
		t.Fatal(err)
	}
	args2 := deleteUser(fakeclerk.ListedUser(4).ID)
	e.callWith(ask, args2)
	e.callWith(ask, args2) // the same request again: a new question
	seen := map[string]bool{}
	for _, id := range ask.ids[1:] {
		if seen[id] {
			t.Fatalf("an answered question's id was asked again: %q", ask.ids)
		}
		seen[id] = true
	}
}

// A summary shows the body's fields but never a secret: sensitive fields
// are hidden, and a credential in any value is masked, also with
// --reveal-secrets.
func TestConfirmSummaryHidesSecrets(t *testing.T) {
	e := liveKeyEnv(t, func(d *Deps) { d.RevealSecrets = true })
	live := e.fake.SecretKey("production")
	body := `{"first_name":"Ada","password":"hunter2-correct-horse","totp_secret":"JBSWY3DPEHPK3PXP",` +
		`"public_metadata":{"note":"x"},"unsafe_metadata":{"k":"` + live + `"},"last_name":"` + live + `"}`
	_, err := e.call(t, APIArgs{Target: TargetBackend, Method: http.MethodPost, Path: "/users", Body: json.RawMessage(body)})
	c := confirmationOf(t, err)
	if !strings.Contains(c.Summary, `first_name="Ada"`) || !strings.Contains(c.Summary, "password=(hidden)") {
		t.Errorf("summary: %s", c.Summary)
	}
	noLeak(t, "summary", c.Summary+"\n"+err.Error(), live, "hunter2-correct-horse", "JBSWY3DPEHPK3PXP")
}

// The user approves what they can see: query values (a hard_delete flag)
// are shown, sensitive ones hidden, and a long body says what it left out.
func TestConfirmSummaryShowsQueryValues(t *testing.T) {
	e := newAPIEnv(t, nil)
	fields := map[string]int{}
	for i := range 50 {
		fields[fmt.Sprintf("f%02d", i)] = i
	}
	body, _ := json.Marshal(fields)
	r, err := e.api.request(APIArgs{Method: "PATCH", Path: "/applications/app_1/instances/production/config",
		Query: map[string]any{"hard_delete": "true", "api_token": "abc"}, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	got := e.api.summary(e.api.masker(), r, "")
	for _, want := range []string{"hard_delete=true", "api_token=(hidden)", "10 more fields not shown"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "abc") {
		t.Errorf("summary shows a sensitive query value: %q", got)
	}
}
