package tools

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

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
