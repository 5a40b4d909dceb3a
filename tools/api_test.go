package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/envelope"

	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
)

// A Backend call with application_id takes the instance's key from the
// Platform API's instances[].secret_key (issue 10), by environment type or
// instance id, and keeps it in memory.
func TestAPIBackendResolvesSecretKeyFromPlatformAPI(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	res := e.ok(t, e.users())
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), fakeclerk.DefaultUser.ID) {
		t.Fatalf("GET /users via application_id: %+v", res)
	}
	dev, prod := e.fake.SecretKey("development"), e.fake.SecretKey("production")
	if n := e.fake.BackendRequestsWith(dev); n != 1 {
		t.Fatalf("Backend requests with the development key = %d, want 1", n)
	}
	platform := e.fake.Counts().Platform
	e.ok(t, e.users())
	if e.fake.Counts().Platform != platform {
		t.Fatal("the key was resolved again instead of taken from memory")
	}
	for _, instance := range []string{"production", "ins_prod1"} {
		args := e.users()
		args.Instance = instance
		e.ok(t, args)
	}
	if n := e.fake.BackendRequestsWith(prod); n != 2 {
		t.Fatalf("Backend requests with the production key = %d, want 2", n)
	}
	args := e.users()
	args.Instance = "staging"
	if _, err := e.call(t, args); reason(t, err) != envelope.ReasonMissingSecretKey {
		t.Fatalf("unknown instance: %v, want missing_secret_key", err)
	}
}

// No redirect is followed by a client carrying a credential (issue 9 item
// 1): a "Clerk" that redirects to another port of the same host, or from
// https to http, gets its 3xx back as the result and the other listener
// receives nothing: no token, no secret key, no body.
func TestAPIDoesNotFollowRedirects(t *testing.T) {
	var stolen atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		w.Write([]byte(`{"data":"not Clerk"}`))
	}))
	t.Cleanup(attacker.Close)
	redirect := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, attacker.URL+"/steal", status)
		}
	}
	check := func(t *testing.T, res *APIResult, err error, status int) {
		t.Helper()
		var te *envelope.Error
		if res != nil || !asError(err, &te) || te.Status != status || te.Reason != envelope.ReasonAPIError {
			t.Fatalf("got %+v, %v; want an api_error with status %d", res, err, status)
		}
		if !strings.Contains(te.Message, attacker.URL+"/steal") {
			t.Errorf("the error does not name the Location: %s", te.Message)
		}
		if n := stolen.Load(); n != 0 {
			t.Fatalf("the redirect target received %d requests", n)
		}
	}

	t.Run("platform", func(t *testing.T) {
		e := newAPIEnv(t, nil)
		e.fake.Handle("GET /v1/platform/moved", redirect(http.StatusFound))
		e.fake.Handle("POST /v1/platform/moved", redirect(http.StatusTemporaryRedirect))
		e.login(t)
		res, err := e.call(t, APIArgs{Path: "/moved"})
		check(t, res, err, http.StatusFound)
		res, err = e.call(t, APIArgs{Path: "/moved", Method: "POST", Body: json.RawMessage(`{"name":"x"}`)})
		check(t, res, err, http.StatusTemporaryRedirect)
	})
	t.Run("backend", func(t *testing.T) {
		e := newAPIEnv(t, nil)
		e.fake.Handle("GET /v1/moved", redirect(http.StatusFound))
		e.login(t)
		res, err := e.call(t, APIArgs{Target: TargetBackend, Path: "/moved", ApplicationID: e.fake.ApplicationID()})
		check(t, res, err, http.StatusFound)
	})
	t.Run("key_resolution", func(t *testing.T) {
		// The Platform API itself redirects while the key is resolved.
		platform := httptest.NewServer(redirect(http.StatusFound))
		t.Cleanup(platform.Close)
		e := newAPIEnv(t, func(d *Deps) { d.Config.PlatformAPIURL = platform.URL })
		e.login(t)
		res, err := e.call(t, e.users())
		check(t, res, err, http.StatusFound)
	})
	t.Run("https_to_http", func(t *testing.T) {
		// A client passed in Deps (with no CheckRedirect of its own) gets
		// the rule too, and is not changed.
		tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, attacker.URL+"/steal", http.StatusFound)
		}))
		t.Cleanup(tls.Close)
		given := tls.Client()
		e := newAPIEnv(t, func(d *Deps) {
			d.HTTP = given
			d.Config.BackendAPIURL = tls.URL
			d.Config.SecretKey = "sk_live_" + strings.Repeat("7", 32)
		})
		res, err := e.call(t, APIArgs{Target: TargetBackend, Path: "/users"})
		check(t, res, err, http.StatusFound)
		if given.CheckRedirect != nil {
			t.Fatal("the client passed in Deps was modified")
		}
	})
}

// A resolved key belongs to the login that resolved it (issue 9 item 2):
// after `clerk-mcp logout` in a terminal the running server does not send
// it again and says not_logged_in.
func TestAPIResolvedKeyForgottenOnLogout(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	e.ok(t, e.users())
	key := e.fake.SecretKey("development")
	e.logout(t)
	_, err := e.call(t, e.users())
	if got := reason(t, err); got != envelope.ReasonNotLoggedIn {
		t.Fatalf("backend call after logout: %v (%s), want not_logged_in", err, got)
	}
	if n := e.fake.BackendRequestsWith(key); n != 1 {
		t.Fatalf("the key was sent %d times, want only the call before logout", n)
	}
	if keys := e.api.keys.all(); len(keys) != 0 {
		t.Fatalf("%d keys still cached after logout", len(keys))
	}
}

// A new login (possibly of another account) re-resolves the key; a
// refresh of the same login does not.
func TestAPIResolvedKeyReResolvedAfterNewLogin(t *testing.T) {
	e := newAPIEnv(t, nil)
	first := e.login(t)
	if first.LoginID == "" {
		t.Fatal("a login stored a session without a login id")
	}
	e.ok(t, e.users())
	resolves := e.fake.Counts().Platform

	// A refresh keeps the login: the cached key is still used.
	e.fake.InvalidateAccessTokens()
	if _, err := e.src.Refresh(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	e.ok(t, e.users())
	if n := e.fake.Counts().Platform; n != resolves {
		t.Fatalf("a refresh made the key be resolved again (%d Platform requests, want %d)", n, resolves)
	}
	if sess, _ := e.src.Session(t.Context()); sess.LoginID != first.LoginID {
		t.Fatalf("the refresh changed the login id %q to %q", first.LoginID, sess.LoginID)
	}

	second := e.login(t)
	if second.LoginID == first.LoginID {
		t.Fatal("two logins have the same login id")
	}
	e.ok(t, e.users())
	if n := e.fake.Counts().Platform; n != resolves+1 {
		t.Fatalf("after a new login: %d Platform requests, want %d (one resolve)", n, resolves+1)
	}
}

// A session stored before login ids existed keeps working, and its key is
// tied to it all the same.
func TestAPIResolvedKeyWithLegacySession(t *testing.T) {
	e := newAPIEnv(t, nil)
	sess := e.login(t)
	sess.LoginID = ""
	if err := e.termStore.Save(t.Context(), sess); err != nil {
		t.Fatal(err)
	}
	waitRecheck()
	e.ok(t, e.users())
	resolves := e.fake.Counts().Platform
	e.ok(t, e.users())
	if e.fake.Counts().Platform != resolves {
		t.Fatal("the key of a legacy session was not kept")
	}
	e.logout(t)
	if _, err := e.call(t, e.users()); reason(t, err) != envelope.ReasonNotLoggedIn {
		t.Fatalf("after logout: %v, want not_logged_in", err)
	}
}

// A 401 with a cached key (it was rolled in the dashboard) re-resolves the
// key once and retries once; a key Clerk keeps refusing is not retried in
// a loop.
func TestAPIResolvedKeyRefusedIsResolvedAgainOnce(t *testing.T) {
	e := newAPIEnv(t, nil)
	e.login(t)
	e.ok(t, e.users())
	old := e.fake.SecretKey("development")
	before := e.fake.Counts()
	fresh := e.fake.RotateSecretKey("development")
	res := e.ok(t, e.users())
	if res.Status != http.StatusOK {
		t.Fatalf("after the key was rolled: %+v", res)
	}
	after := e.fake.Counts()
	if e.fake.BackendRequestsWith(old) != 2 || e.fake.BackendRequestsWith(fresh) != 1 ||
		after.Platform-before.Platform != 1 || after.Backend-before.Backend != 2 {
		t.Fatalf("old key sent %d times (want 2), new key %d (want 1), resolves %d (want 1), backend requests %d (want 2)",
			e.fake.BackendRequestsWith(old), e.fake.BackendRequestsWith(fresh),
			after.Platform-before.Platform, after.Backend-before.Backend)
	}

	// An endpoint that refuses every key: one re-resolve, no retry.
	var hits atomic.Int64
	e.fake.Handle("GET /v1/refuses", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"errors":[{"code":"authentication_invalid","message":"no"}]}`))
	})
	before = e.fake.Counts()
	_, err := e.call(t, APIArgs{Target: TargetBackend, Path: "/refuses", ApplicationID: e.fake.ApplicationID()})
	var te *envelope.Error
	if !asError(err, &te) || te.Status != http.StatusUnauthorized {
		t.Fatalf("got %v, want the 401", err)
	}
	if hits.Load() != 1 || e.fake.Counts().Platform-before.Platform != 1 {
		t.Fatalf("%d requests and %d resolves for a key refused twice, want 1 and 1", hits.Load(), e.fake.Counts().Platform-before.Platform)
	}
}

func asError(err error, te **envelope.Error) bool {
	if err == nil {
		return false
	}
	e, ok := err.(*envelope.Error)
	*te = e
	return ok
}

// jsonEscapeAll spells every byte of s as a JSON \u escape.
func jsonEscapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\u%04x`, s[i])
	}
	return b.String()
}

// escapeUnderscores spells each _ of s as \u005f, as some JSON encoders do.
func escapeUnderscores(s string) string { return strings.ReplaceAll(s, "_", `\u005f`) }

// Each way an api call fails has its reason.
func TestAPIReasons(t *testing.T) {
	t.Run("not_logged_in", func(t *testing.T) {
		e := newToolEnv(t, nil)
		e.fail(t, "api", map[string]any{"path": "/applications"}, envelope.ReasonNotLoggedIn)
	})
	t.Run("invalid_input", func(t *testing.T) {
		e := newToolEnv(t, nil)
		e.login(t, time.Now().Add(time.Hour))
		for _, p := range []string{"//evil.example/x", "https://evil.example/", `\users`, "/users@evil", "/users/../platform",
			"/users%2fx", "/users?x=1", "/us\x00ers", ""} {
			e.fail(t, "api", map[string]any{"path": p}, envelope.ReasonInvalidInput)
		}
		e.fail(t, "api", map[string]any{"path": "/users", "bogus": 1}, envelope.ReasonInvalidInput)
		e.fail(t, "api", map[string]any{"path": "/users", "method": "TRACE"}, envelope.ReasonInvalidInput)
		if c := e.fake.Counts(); c.Platform+c.Backend != 0 {
			t.Fatalf("refused input still reached Clerk (%d requests)", c.Platform+c.Backend)
		}
	})
	t.Run("read_only", func(t *testing.T) {
		e := newToolEnv(t, func(d *Deps) { d.ReadOnly = true })
		e.login(t, time.Now().Add(time.Hour))
		e.fail(t, "api", map[string]any{"path": "/applications", "method": "POST", "body": map[string]any{"name": "x"}}, envelope.ReasonReadOnly)
		if _, err := e.call(t, "api", map[string]any{"path": "/applications"}); err != nil {
			t.Fatalf("GET in read-only mode: %s", envelope.Marshal(err))
		}
	})
	t.Run("missing_secret_key", func(t *testing.T) {
		e := newToolEnv(t, nil)
		e.login(t, time.Now().Add(time.Hour))
		e.fail(t, "api", map[string]any{"target": "backend", "path": "/users"}, envelope.ReasonMissingSecretKey)
	})
	t.Run("api_error", func(t *testing.T) {
		e := newToolEnv(t, nil)
		e.login(t, time.Now().Add(time.Hour))
		b := e.fail(t, "api", map[string]any{"path": "/applications/app_missing"}, envelope.ReasonAPIError)
		if b.Status != 404 || len(b.Errors) == 0 || b.TraceID == "" || !strings.Contains(b.Remedy, "path") {
			t.Fatalf("404 envelope lacks status, errors, trace id or path hint: %+v", b)
		}
	})
	t.Run("network_error", func(t *testing.T) {
		e := newToolEnv(t, func(d *Deps) { d.Config.PlatformAPIURL = "http://127.0.0.1:1" })
		e.login(t, time.Now().Add(time.Hour))
		if b := e.fail(t, "api", map[string]any{"path": "/applications"}, envelope.ReasonNetworkError); !b.Retryable {
			t.Fatal("network_error must be retryable")
		}
	})
}

func TestAPIPlatformAndBackend(t *testing.T) {
	e := newToolEnv(t, nil)
	e.login(t, time.Now().Add(time.Hour))
	if text := e.ok(t, "api", map[string]any{"path": "/applications"}); !strings.Contains(text, e.fake.ApplicationID()) {
		t.Fatalf("GET /applications: %s", text)
	}
	// The instance's secret key is resolved via the Platform API, used, and
	// never shown.
	users := map[string]any{"target": "backend", "path": "/users", "application_id": e.fake.ApplicationID()}
	if text := e.ok(t, "api", users); !strings.Contains(text, fakeclerk.DefaultUser.ID) {
		t.Fatalf("GET /users via application_id: %s", text)
	}
	out := e.ok(t, "api", map[string]any{"path": "/applications/" + e.fake.ApplicationID(), "query": map[string]any{"include_secret_keys": true}})
	for _, env := range []string{"development", "production"} {
		if strings.Contains(out, e.fake.SecretKey(env)) {
			t.Fatalf("secret key of %s shown unmasked: %s", env, out)
		}
	}
	if !strings.Contains(out, "sk_test_****") {
		t.Fatalf("masked key missing: %s", out)
	}
	before := e.fake.Counts().Platform
	e.ok(t, "api", users)
	if e.fake.Counts().Platform != before {
		t.Fatal("the secret key was resolved again instead of taken from memory")
	}
}

func TestAPIRevealSecrets(t *testing.T) {
	e := newToolEnv(t, func(d *Deps) { d.RevealSecrets = true })
	e.login(t, time.Now().Add(time.Hour))
	text, err := e.call(t, "api", map[string]any{"path": "/applications/" + e.fake.ApplicationID(), "query": map[string]any{"include_secret_keys": "true"}})
	if err != nil || !strings.Contains(text, e.fake.SecretKey("development")) {
		t.Fatalf("--reveal-secrets did not reveal the key: %s %v", text, err)
	}
}

// Big and hostile answers: a 50 MB body is cut at the cap without being
// read whole, invalid UTF-8 is repaired, and nesting deeper than a JSON
// decoder accepts comes back as text instead of breaking the result.
func TestAPIHostileResponses(t *testing.T) {
	e := newToolEnv(t, nil)
	e.login(t, time.Now().Add(time.Hour))
	var sent atomic.Int64
	e.fake.Handle("GET /v1/platform/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(`{"id":"user_x","name":"aaaaaaaaaaaaaaaaaaaa"},`, 1000))
		w.Write([]byte("["))
		for sent.Load() < 50<<20 {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		w.Write([]byte("{}]"))
	})
	e.fake.Handle("GET /v1/platform/latin1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{\"name\":\"Ren\xe9e \xff\xfe\"}"))
	})
	e.fake.Handle("GET /v1/platform/deep", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000)))
	})

	text := e.ok(t, "api", map[string]any{"path": "/huge"})
	got := decode[APIResult](t, text)
	if got.Truncated == nil || !got.Truncated.TotalAtLeast || len(text) > DefaultMaxResultChars {
		t.Fatalf("50 MB answer: truncated=%v body_text=%d bytes, result %d bytes", got.Truncated, len(got.BodyText), len(text))
	}
	// The tool itself (without encoding its result) allocates a few copies
	// of the 1 MiB cap, not the 50 MB answer.
	apiTool := e.with(Deps{Config: e.cfg, Source: e.source, Store: e.store, HTTP: &http.Client{}}, nil).tools["api"]
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := apiTool.Handler(context.Background(), json.RawMessage(`{"path":"/huge"}`)); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	if alloc > 8<<20 {
		t.Errorf("the api tool allocated %d MiB for a 50 MB answer capped at 1 MiB", alloc>>20)
	}
	t.Logf("50 MB answer: the api tool allocated %.1f MiB; the fake sent %d MiB before the connection closed", float64(alloc)/(1<<20), sent.Load()>>20)
	time.Sleep(100 * time.Millisecond)
	if n := sent.Load(); n >= 50<<20 {
		t.Errorf("the server sent all %d MiB: the answer was read to the end", n>>20)
	}

	text = e.ok(t, "api", map[string]any{"path": "/latin1"})
	if got := decode[APIResult](t, text); !strings.Contains(string(got.Body), "Ren\uFFFDe") {
		t.Fatalf("invalid UTF-8: %s", text)
	}

	text = e.ok(t, "api", map[string]any{"path": "/deep"})
	got = decode[APIResult](t, text)
	if got.Body != nil || got.BodyText == "" || got.Truncated == nil || len(text) > DefaultMaxResultChars {
		t.Fatalf("deeply nested JSON: body=%d body_text=%d result %d bytes", len(got.Body), len(got.BodyText), len(text))
	}
	// The tools still work.
	e.ok(t, "whoami", nil)
}
