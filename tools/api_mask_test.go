package tools

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Every spelling of a credential in an answer is masked (issue 9 item 5):
// the access and refresh tokens, ak_ and sk_ keys (also with - and .),
// plain, as JSON \u escapes (whole or only the underscores), escaped twice,
// percent-encoded, in a JSON body, a raw text body, Clerk's long_message
// and the Location header; and so in what the server logs (Error()).
func TestAPIMasksCredentialsInEveryForm(t *testing.T) {
	const dashed = "sk_test_Ab-cD.eF-gh.Ij-KLmnopQRstUV1234"
	var platformKey = "ak_live_" + strings.Repeat("Zq9", 12)
	for _, reveal := range []bool{false, true} {
		t.Run(fmt.Sprintf("reveal=%v", reveal), func(t *testing.T) {
			e := newAPIEnv(t, func(d *Deps) { d.RevealSecrets = reveal })
			sess := e.login(t)
			dev := e.fake.SecretKey("development")
			// forms is every spelling of every credential, for a body the
			// handler writes as raw JSON text.
			forms := func(bearer string) []string {
				var out []string
				for _, s := range []string{bearer, sess.AccessToken, sess.RefreshToken, dev, dashed, platformKey} {
					out = append(out, s, jsonEscapeAll(s), escapeUnderscores(s),
						strings.ReplaceAll(escapeUnderscores(s), `\`, `\\`), url.QueryEscape(strings.ReplaceAll(s, "_", "%5F")))
				}
				return out
			}
			bearerOf := func(r *http.Request) string { return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") }
			jsonBody := func(r *http.Request) string {
				var b strings.Builder
				b.WriteString(`{"echo":[`)
				for i, f := range forms(bearerOf(r)) {
					if i > 0 {
						b.WriteString(",")
					}
					b.WriteString(`"` + f + `"`)
				}
				b.WriteString(`]}`)
				return b.String()
			}
			location := func(r *http.Request) string {
				return "https://elsewhere.example/cb?token=" + url.QueryEscape(bearerOf(r)) + "&rt=" + url.QueryEscape(sess.RefreshToken) +
					"&k=" + strings.ReplaceAll(dev, "_", "%5F") + "&d=" + dashed + "&a=" + platformKey
			}
			for _, prefix := range []string{"/v1/platform", "/v1"} {
				e.fake.Handle("GET "+prefix+"/echo/json", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Location", location(r))
					w.Write([]byte(jsonBody(r)))
				})
				e.fake.Handle("GET "+prefix+"/echo/text", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/plain")
					w.Write([]byte("not json: " + strings.Join(forms(bearerOf(r)), " ; ")))
				})
				e.fake.Handle("GET "+prefix+"/echo/error", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("X-Clerk-Trace-Id", bearerOf(r))
					w.WriteHeader(http.StatusBadRequest)
					msg := strings.Join(forms(bearerOf(r)), " ")
					fmt.Fprintf(w, `{"errors":[{"code":"x","message":"%s","long_message":"%s"}],"clerk_trace_id":"%s"}`, msg, msg, jsonEscapeAll(bearerOf(r)))
				})
				e.fake.Handle("GET "+prefix+"/echo/redirect", func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, location(r), http.StatusFound)
				})
			}
			tokens := []string{sess.AccessToken, sess.RefreshToken, platformKey}
			keys := []string{dev, dashed}
			for _, target := range []string{TargetPlatform, TargetBackend} {
				for _, kind := range []string{"json", "text", "error", "redirect"} {
					args := APIArgs{Target: target, Path: "/echo/" + kind}
					if target == TargetBackend {
						args.ApplicationID = e.fake.ApplicationID()
					}
					res, err := e.call(t, args)
					out := shown(res, err)
					if kind == "json" && (err != nil || res.Body == nil) {
						t.Fatalf("%s %s: want a JSON body, got %s", target, kind, out)
					}
					what := target + " " + kind
					noLeak(t, what, out, tokens...)
					if !reveal {
						noLeak(t, what, out, keys...)
					} else if kind == "json" && !strings.Contains(out, dashed) {
						t.Errorf("%s: --reveal-secrets did not reveal the sk_ key: %s", what, out)
					}
				}
			}
		})
	}
}

// The masker on its own: each spelling of a key is masked, JSON stays
// valid, and text around the key survives.
func TestMaskerSpellings(t *testing.T) {
	const key = "sk_live_0123456789abcdefWXYZ"
	m := &masker{}
	for _, in := range []string{
		key,
		`{"k":"` + key + `"}`,
		`{"k":"` + escapeUnderscores(key) + `"}`,
		`{"k":"` + strings.ReplaceAll(strings.ToUpper(jsonEscapeAll(key)), `\U`, `\u`) + `"}`,
		`{"k":"` + strings.ReplaceAll(escapeUnderscores(key), `\`, `\\`) + `"}`,
		`{"k":"` + strings.ReplaceAll(key, "_", `\\\\u005F`) + `"}`,
		"https://x.example/?k=" + strings.ReplaceAll(key, "_", "%5F"),
		"https://x.example/?k=" + strings.ReplaceAll(key, "_", "%255F"),
		"Bearer " + key + ".",
		"sk_test_ab-cd.ef-gh.ij-kl-mn",
	} {
		out := m.string(in)
		if strings.Contains(visible(out), "0123456789abcdef") || strings.Contains(visible(out), "ab-cd.ef") {
			t.Errorf("%s: not masked: %s", in, out)
		}
		if json.Valid([]byte(in)) && !json.Valid([]byte(out)) {
			t.Errorf("%s: masking broke the JSON: %s", in, out)
		}
		if strings.HasPrefix(in, "{") && !strings.HasPrefix(out, `{"k":"sk_live_****WXYZ"}`) {
			t.Errorf("%s: masked as %s, want the prefix and last four kept", in, out)
		}
	}
	if got := m.string("a task_test_result and ask_me"); got != "a task_test_result and ask_me" {
		t.Errorf("ordinary words were masked: %s", got)
	}
}

// A server that places a credential across the cut at MaxResponseBody does
// not get its first part shown: the truncated body ends before it.
func TestAPITruncatedBodyDoesNotEndInACredential(t *testing.T) {
	// A budget over the cap, so that the end of what was read is shown.
	e := newAPIEnv(t, func(d *Deps) { d.MaxResultChars = 4 * MaxResponseBody })
	sess := e.login(t)
	secret := sess.AccessToken
	for _, tc := range []struct {
		name, form string
		split      int // the cut falls 1/split into the credential
	}{
		{"plain", secret, 2},
		{"escaped", jsonEscapeAll(secret), 7}, // inside an escape
		{"sk_key", "sk_live_" + strings.Repeat("Qw7", 30), 3},
	} {
		name, form, split := tc.name, tc.form, tc.split
		e.fake.Handle(fmt.Sprintf("GET /v1/platform/huge/%s", name), func(w http.ResponseWriter, r *http.Request) {
			pad := MaxResponseBody - len(form)/split - 3
			fmt.Fprintf(w, `["%s %s"]`, strings.Repeat("x", pad), form)
		})
		res, err := e.call(t, APIArgs{Path: "/huge/" + name})
		if err != nil || res.Truncated == nil || !res.Truncated.TotalAtLeast {
			t.Fatalf("%s: want a truncated answer, got %v", name, err)
		}
		// The dozen characters of the credential just before the cut.
		plain, cut := form, len(form)/split
		if name == "escaped" {
			plain, cut = secret, cut/6
		}
		before := plain[cut-12 : cut]
		if out, _ := decodeEscapes(visible(res.BodyText), false); strings.Contains(out, before) {
			t.Errorf("%s: the start of the credential is shown: ...%s", name, res.BodyText[max(0, len(res.BodyText)-200):])
		}
	}
}

// Credentials Clerk issues besides sk_ and ak_ keys: webhook signing
// secrets and machine tokens are masked too, with --reveal-secrets also.
func TestMaskerWebhookSecretsAndMachineTokens(t *testing.T) {
	whsec := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	mt := "mt_2xKa9Qm4Lr7Tz1Vb8Nc3Wd6Yf0Hg5Jk"
	for _, reveal := range []bool{false, true} {
		m := &masker{reveal: reveal}
		got := m.string(`{"secret":"` + whsec + `","token":"` + mt + `","format_settings":"mt_is_not_a_token"}`)
		if strings.Contains(got, whsec) || strings.Contains(got, mt) {
			t.Fatalf("reveal=%v: %s", reveal, got)
		}
		if !strings.Contains(got, "mt_is_not_a_token") {
			t.Fatalf("reveal=%v: a short mt_ word was masked: %s", reveal, got)
		}
	}
}
