package tools

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/clerk-mcp/clerk-mcp/envelope"
	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
)

// Confirmation of consequential api calls. `serve --confirm` names the
// calls that need a human's yes (ConfirmPolicy). The human is asked
// through the MCP client when it can ask (tools.Asker, form elicitation);
// otherwise the call fails with confirmation_required and a token, and the
// agent repeats the same call with `confirm: TOKEN` once the user agreed.
//
// A client's answers come back unverified (the client can send "accept"
// for a question it was never shown), so everything that authorizes a
// call is issued here, random and single-use, and bound to a digest of
// the exact request: a token or question id minted for one request
// authorizes no other.

// ConfirmPolicy names the api calls that need a human's yes.
type ConfirmPolicy string

// The policies of `serve --confirm`.
const (
	// ConfirmProduction: every mutating call that touches a production
	// instance, and every delete or secret-key rotation of an
	// application. The default.
	ConfirmProduction ConfirmPolicy = "production"
	// ConfirmWrites: every mutating call.
	ConfirmWrites ConfirmPolicy = "writes"
	// ConfirmNever: none.
	ConfirmNever ConfirmPolicy = "never"
)

// ParseConfirmPolicy reads the value of `serve --confirm`.
func ParseConfirmPolicy(s string) (ConfirmPolicy, error) {
	switch p := ConfirmPolicy(s); p {
	case ConfirmProduction, ConfirmWrites, ConfirmNever:
		return p, nil
	}
	return "", fmt.Errorf("invalid --confirm %q (want production, writes or never)", s)
}

// ConfirmTTL is how long a confirmation token, or a question waiting for
// the client's answer, stays valid.
const ConfirmTTL = 5 * time.Minute

// maxPendingConfirms bounds the tokens and questions kept in memory: an
// agent looping on confirmation_required cannot grow the server.
const maxPendingConfirms = 256

// policy is the configured policy; the zero value is the default.
func (a *api) policy() ConfirmPolicy {
	if a.d.Confirm == "" {
		return ConfirmProduction
	}
	return a.d.Confirm
}

// confirmHelp is what the api tool's description says about dry runs and
// confirmation under this server's flags.
func (a *api) confirmHelp() string {
	help := " `dry_run: true` sends nothing and shows the request, spec check and whether it needs confirmation."
	if a.d.ReadOnly {
		return help
	}
	switch a.policy() {
	case ConfirmNever:
		return help
	case ConfirmWrites:
		help += " Every write"
	default:
		help += " Writes to production (sk_live_ key, instance production) and application deletes or key rotations"
	}
	return help + " need the user's yes: asked in the client, or the call fails with confirmation_required: show " +
		"confirmation.summary and, once they agree, repeat the same call with `confirm`: its token."
}

// isMutating reports whether method changes something at Clerk.
func isMutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// prodness is whether a request touches a production instance, as far as
// it is known without a network call.
type prodness int

const (
	notProduction prodness = iota
	isProduction
	maybeProduction // an instance id whose environment is not known yet
)

// confirmNeed is the policy's verdict on one request.
type confirmNeed struct {
	need bool
	// why says which rule asks for confirmation, for the summary.
	why string
	// unsure is set when need rests on an instance whose environment is
	// only known once its key is resolved (dry runs resolve nothing).
	unsure string
}

// needsConfirmation applies the policy to r. With resolve, a Backend call
// to an instance given by id has its secret key resolved (as the send
// would) to learn whether it is a live key; without, such an instance
// counts as production and the verdict says so.
func (a *api) needsConfirmation(ctx context.Context, m *masker, r *apiRequest, resolve bool) (confirmNeed, error) {
	if !isMutating(r.method) {
		return confirmNeed{}, nil
	}
	switch a.policy() {
	case ConfirmNever:
		return confirmNeed{}, nil
	case ConfirmWrites:
		return confirmNeed{need: true, why: "this server confirms every write (--confirm writes)"}, nil
	}
	if why := applicationLevel(r); why != "" {
		return confirmNeed{need: true, why: why}, nil
	}
	p := a.production(r)
	if p == maybeProduction && resolve && r.target == TargetBackend {
		key, err := a.backendKey(ctx, m, r)
		if err != nil {
			return confirmNeed{}, err
		}
		p = keyProduction(key)
	}
	switch p {
	case isProduction:
		return confirmNeed{need: true, why: "it changes a production instance"}, nil
	case maybeProduction:
		_, instance := r.where()
		return confirmNeed{need: true, why: "instance " + instance + " may be a production instance",
			unsure: "whether instance " + instance + " is production is known when its secret key is resolved at send time"}, nil
	}
	return confirmNeed{}, nil
}

// applicationLevel names the rule when r acts on a whole application in a
// way that reaches production, which always needs confirmation under the
// production policy: deleting it, rotating its keys, transferring it to
// another workspace, changing its domains (production's), adding an
// instance, claiming an accountless application. Cosmetic changes (name,
// logo, favicon) and a DNS re-check are not consequential.
func applicationLevel(r *apiRequest) string {
	if r.target != TargetPlatform {
		return ""
	}
	segs := platformSegments(r.path)
	if len(segs) > 0 && segs[0] == "accountless_applications" {
		return "it claims or changes an accountless application"
	}
	if len(segs) < 2 || segs[0] != "applications" {
		return ""
	}
	switch {
	case segs[len(segs)-1] == "rotate_secret_keys":
		return "it rotates an application's secret keys"
	case segs[len(segs)-1] == "dns_check":
		return ""
	case len(segs) == 2 && r.method == http.MethodDelete:
		return "it deletes an application"
	case len(segs) == 2:
		return ""
	case segs[2] == "transfers":
		return "it transfers an application to another workspace (or cancels a transfer)"
	case segs[2] == "domain" || segs[2] == "domains":
		return "it changes an application's domains, which its production instance uses"
	case segs[2] == "instances" && len(segs) == 3:
		return "it adds an instance to an application"
	}
	return ""
}

// production says whether r touches a production instance: a Backend call
// with an sk_live_ key or to instance "production", a Platform path under
// /applications/{id}/instances/production. An instance given by id is
// known only from its key: one already resolved answers, else it is
// maybeProduction.
func (a *api) production(r *apiRequest) prodness {
	if r.target == TargetBackend {
		if key := a.d.Config.SecretKey; key != "" {
			return keyProduction(key)
		}
		switch r.instance {
		case "production":
			return isProduction
		case "development":
			return notProduction
		}
		if login, ok := a.cachedLogin(); ok {
			if key, ok := a.keys.get(r.appID+"/"+r.instance, login); ok {
				return keyProduction(key)
			}
		}
		return maybeProduction
	}
	_, instance := r.where()
	switch instance {
	case "":
		return notProduction
	case "production":
		return isProduction
	case "development":
		return notProduction
	}
	// A Platform call names an instance by id; learning its environment
	// would take a call of its own, so it is treated as production.
	return maybeProduction
}

func keyProduction(key string) prodness {
	if strings.HasPrefix(key, "sk_live_") {
		return isProduction
	}
	return notProduction
}

// cachedLogin is the login identity under which keys are cached, without
// a network call: only the Platform API key's is known for sure. With an
// OAuth session the cache is consulted by the send itself.
func (a *api) cachedLogin() (string, bool) {
	if a.d.Config.PlatformAPIKey != "" {
		return platformKeyLogin, true
	}
	return "", false
}

// backendKey returns the secret key a Backend call to r's instance is sent
// with, resolving it through the Platform API (and caching it, as the
// send does) when it is not in memory yet.
func (a *api) backendKey(ctx context.Context, m *masker, r *apiRequest) (string, error) {
	login, err := a.login(ctx)
	if err != nil {
		return "", err
	}
	id := r.appID + "/" + r.instance
	if key, ok := a.keys.get(id, login); ok {
		return key, nil
	}
	key, err := a.resolveKey(ctx, m, r.appID, r.instance)
	if err != nil {
		return "", err
	}
	a.keys.put(id, login, key)
	return key, nil
}

// platformSegments splits a Platform API path after /v1/platform/.
func platformSegments(apiPath string) []string {
	rest, ok := strings.CutPrefix(apiPath, "/v1/platform/")
	if !ok || rest == "" {
		return nil
	}
	return strings.Split(rest, "/")
}

// where returns the application and instance r acts on: the arguments of
// a Backend call, or the ids in a Platform path
// (/applications/{id}/instances/{instance}/...).
func (r *apiRequest) where() (appID, instance string) {
	if r.target == TargetBackend {
		return r.appID, r.instance
	}
	segs := platformSegments(r.path)
	if len(segs) >= 2 && segs[0] == "applications" {
		appID = segs[1]
	}
	if len(segs) >= 4 && segs[2] == "instances" {
		instance = segs[3]
	}
	return appID, instance
}

// confirm decides whether r may be sent: not needed, a valid token, or
// the user's yes in the client, and records which in rec. Otherwise it
// returns declined, or confirmation_required with a fresh token.
func (a *api) confirm(ctx context.Context, m *masker, r *apiRequest, token string, rec *auditRecord) error {
	need, err := a.needsConfirmation(ctx, m, r, true)
	if err != nil {
		return err
	}
	if !need.need {
		rec.allow(audit.AllowedNotRequired)
		return nil
	}
	digest := r.digest()
	if token != "" && a.confirms.redeem(token, digest) {
		rec.allow(audit.AllowedToken)
		return nil
	}
	summary := a.summary(m, r, need.why)
	id := a.confirms.question(digest)
	answer, err := askerFrom(ctx).Confirm(ctx, id, summary+"\n\nSend this request to Clerk?")
	if err != nil {
		// The client answers in a later round trip (or failed): the
		// question, and its id, stay pending for the retry, which is the
		// call the audit log records.
		if ctx.Err() == nil {
			rec.suspend()
		}
		return err
	}
	a.confirms.answered(digest)
	switch answer {
	case AnswerAccept:
		rec.allow(audit.AllowedElicited)
		return nil
	case AnswerDecline, AnswerCancel:
		return &envelope.Error{Reason: envelope.ReasonDeclined,
			Message: "The user declined the request; nothing was sent: " + summary,
			Remedy:  "Do not retry it unless the user asks for it again."}
	}
	msg := "This request needs the user's confirmation before it is sent: " + summary
	if token != "" {
		msg = "The confirmation token was not accepted (it was used already, expired, or issued for a different request). " + msg
	}
	return &envelope.Error{Reason: envelope.ReasonConfirmationRequired,
		Message:      msg,
		Remedy:       "Show confirmation.summary to the user. Only after they agree, repeat exactly the same call with confirm set to confirmation.token (single use, valid 5 minutes). Nothing was sent.",
		Confirmation: &envelope.Confirmation{Summary: summary, Token: a.confirms.issue(digest)}}
}

// digest is a hash of the canonical request: method, target, path,
// query, body (re-encoded, so that spacing and key order do not matter),
// application and instance. Two calls with the same digest send the same
// request.
func (r *apiRequest) digest() string {
	canon := struct {
		Method, Target, Path, Query string
		Body                        json.RawMessage
		App, Instance               string
	}{r.method, r.target, r.path, r.query.Encode(), canonicalJSON(r.body), r.appID, r.instance}
	data, _ := json.Marshal(canon)
	sum := sha256.Sum256(data)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// canonicalJSON re-encodes a JSON document with sorted keys and no
// spacing, keeping numbers as written.
func canonicalJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return b
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b
	}
	return out
}

// summary describes r for the human who confirms it: method, API, path,
// application and instance, and the body's fields with secret-looking
// values hidden. It never holds a credential.
func (a *api) summary(m *masker, r *apiRequest, why string) string {
	safe := *m
	safe.reveal = false // a summary is shown to people, whatever --reveal-secrets says
	var b strings.Builder
	api := "Platform API"
	if r.target == TargetBackend {
		api = "Backend API"
	}
	fmt.Fprintf(&b, "%s %s on the %s", r.method, safetext.Clean(r.path), api)
	app, instance := r.where()
	switch {
	case r.target == TargetBackend && a.d.Config.SecretKey != "":
		kind := "development"
		if keyProduction(a.d.Config.SecretKey) == isProduction {
			kind = "production"
		}
		fmt.Fprintf(&b, " with CLERK_SECRET_KEY (a %s key)", kind)
	case app != "" && instance != "":
		fmt.Fprintf(&b, ", application %s, instance %s", app, instance)
	case app != "":
		fmt.Fprintf(&b, ", application %s", app)
	}
	if len(r.query) > 0 {
		// Values too: a flag such as hard_delete=true changes what the
		// user is agreeing to.
		keys := make([]string, 0, len(r.query))
		for k := range r.query {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			val := "(hidden)"
			if !sensitiveField().MatchString(k) {
				val = clip(safe.string(safetext.Clean(strings.Join(r.query[k], ","))), maxSummaryValue)
			}
			parts = append(parts, clip(safetext.Clean(k), maxSummaryValue)+"="+val)
		}
		fmt.Fprintf(&b, "; query: %s", strings.Join(parts, ", "))
	}
	if body := bodySummary(&safe, r.body); body != "" {
		fmt.Fprintf(&b, "; body: %s", body)
	}
	if why != "" {
		fmt.Fprintf(&b, " (confirmation needed: %s)", why)
	}
	return b.String()
}

// sensitiveField matches body fields whose values are not shown in a
// summary, whatever they look like.
var sensitiveField = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)pass|secret|token|key|code|otp|totp|private|credential|signature|hash|cert|digest|salt`)
})

// maxSummaryFields and maxSummaryValue keep a summary readable in a
// confirmation dialog.
const (
	maxSummaryFields = 40
	maxSummaryValue  = 60
)

// bodySummary lists a JSON body's top-level fields with short values:
// strings and numbers as they are (masked, cut), nested values by size,
// and sensitive fields as (hidden).
func bodySummary(m *masker, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return fmt.Sprintf("%d bytes", len(body))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return describe(m, v)
	}
	if len(obj) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, min(len(keys), maxSummaryFields)+1)
	for i, k := range keys {
		if i == maxSummaryFields {
			parts = append(parts, fmt.Sprintf("and %d more fields not shown here (dry_run shows the whole body)", len(keys)-i))
			break
		}
		val := "(hidden)"
		if !sensitiveField().MatchString(k) {
			val = describe(m, obj[k])
		}
		parts = append(parts, clip(safetext.Clean(k), maxSummaryValue)+"="+val)
	}
	return strings.Join(parts, ", ")
}

// describe is one value of a body summary.
func describe(m *masker, v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprint(x)
	case json.Number:
		return clip(x.String(), maxSummaryValue)
	case string:
		return fmt.Sprintf("%q", clip(m.string(safetext.Clean(x)), maxSummaryValue))
	case []any:
		if len(x) <= 3 {
			items := make([]string, len(x))
			for i, item := range x {
				if _, nested := item.(map[string]any); nested {
					items[i] = "{...}"
				} else if _, nested := item.([]any); nested {
					items[i] = "[...]"
				} else {
					items[i] = describe(m, item)
				}
			}
			return "[" + strings.Join(items, ", ") + "]"
		}
		return fmt.Sprintf("[%d items]", len(x))
	case map[string]any:
		return fmt.Sprintf("{%d fields}", len(x))
	}
	return "?"
}

// clip cuts s to at most n bytes at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// confirmations holds the tokens handed to agents and the ids of the
// questions asked through the client, in memory, bounded, each bound to a
// request digest and valid for ConfirmTTL.
type confirmations struct {
	mu sync.Mutex
	// now is the clock; tests move it.
	now func() time.Time
	// tokens maps a token to the digest it authorizes.
	tokens map[string]pending
	// questions maps a digest to the id of the question asked about it,
	// so that the retry of an input-required round trip asks with the
	// same id.
	questions map[string]pending
}

type pending struct {
	value   string // the digest of a token; the id of a question
	expires time.Time
}

func (c *confirmations) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// issue returns a new token for digest.
func (c *confirmations) issue(digest string) string {
	tok := "cfm_" + randomID()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil {
		c.tokens = map[string]pending{}
	}
	now := c.clock()
	makeRoom(c.tokens, now)
	c.tokens[tok] = pending{value: digest, expires: now.Add(ConfirmTTL)}
	return tok
}

// redeem reports whether token is valid for digest. A token is spent by
// any use, matching or not: one that was shown with another request is
// no longer the one the user agreed to.
func (c *confirmations) redeem(token, digest string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.tokens[token]
	if !ok {
		return false
	}
	delete(c.tokens, token)
	return p.value == digest && c.clock().Before(p.expires)
}

// question returns the id of the question about digest: the pending one,
// or a new random one.
func (c *confirmations) question(digest string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	if p, ok := c.questions[digest]; ok && now.Before(p.expires) {
		return p.value
	}
	if c.questions == nil {
		c.questions = map[string]pending{}
	}
	makeRoom(c.questions, now)
	id := "confirm_" + randomID()
	c.questions[digest] = pending{value: id, expires: now.Add(ConfirmTTL)}
	return id
}

// answered forgets the question about digest: the next identical request
// is a new question with a new id.
func (c *confirmations) answered(digest string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.questions, digest)
}

// makeRoom drops expired entries of m and, when it is still full, the one
// that expires first.
func makeRoom(m map[string]pending, now time.Time) {
	if len(m) < maxPendingConfirms {
		return
	}
	oldest := ""
	for k, p := range m {
		if !now.Before(p.expires) {
			delete(m, k)
			continue
		}
		if oldest == "" || p.expires.Before(m[oldest].expires) {
			oldest = k
		}
	}
	if len(m) >= maxPendingConfirms {
		delete(m, oldest)
	}
}

// randomID is 256 random bits, URL-safe.
func randomID() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
