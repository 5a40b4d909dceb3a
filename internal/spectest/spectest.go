// Package spectest holds a fake Clerk to Clerk's published API in tests:
// every request the fake receives (so every request clerk-mcp sends) and
// every answer it gives for a documented operation is checked against the
// full OpenAPI specs vendored in tools/catalog/openapi, with kin-openapi. A fake that invents a field, or a product that
// sends what Clerk does not accept, fails the test that exercised it.
//
// Answers the fake gives on purpose against the spec (injected faults,
// handlers a test installs to play a hostile server) are marked by the fake
// through fakeclerk.WithFaultMarker and skipped here; routes the specs do not
// document are listed in Undocumented with the reason.
package spectest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/tools/apispec"
)

// Undocumented lists what the fake serves that Clerk's specs do not
// describe, keyed by "METHOD path", with the reason it exists.
var Undocumented = map[string]string{
	"POST /oauth/device_authorization": "RFC 8628 device authorization: Clerk offers no device grant today; the fake plays an issuer that does, for `login --device`",
	"GET /oauth/device":                "the device flow's verification page, for the sandbox's offline tour",
}

// undocumentedVariant is the reason a request to a documented operation
// is in a form the spec does not describe, or "".
func undocumentedVariant(path string, body []byte) string {
	if path == "/oauth/token" {
		form, _ := url.ParseQuery(string(body))
		if form.Get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code" {
			return "RFC 8628 device_code grant: see POST /oauth/device_authorization"
		}
	}
	return ""
}

// maxChecked bounds the bodies read for checking; larger ones (tests of
// hostile sizes) pass through unchecked.
const maxChecked = 1 << 20

type specSet struct{ backend, platform, frontend *Spec }

var loadSpecs = sync.OnceValues(func() (*specSet, error) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "tools", "catalog", "openapi")
	var set specSet
	for dst, name := range map[**Spec]string{
		&set.backend: "bapi_2026-05-12.yml", &set.platform: "platform_beta.yml", &set.frontend: "fapi_2026-05-12.yml",
	} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read spec: %w", err)
		}
		if *dst, err = Parse(data); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return &set, nil
})

// specFor picks the spec that documents urlPath and the path as that spec
// writes it.
func (s *specSet) specFor(urlPath string) (*Spec, string) {
	switch {
	case strings.HasPrefix(urlPath, "/v1/platform/"):
		return s.platform, strings.TrimPrefix(urlPath, "/v1")
	case strings.HasPrefix(urlPath, "/v1/"):
		return s.backend, strings.TrimPrefix(urlPath, "/v1")
	case strings.HasPrefix(urlPath, "/oauth/"), strings.HasPrefix(urlPath, "/.well-known/"):
		return s.frontend, urlPath
	}
	return nil, ""
}

// Checker records what a fake Clerk received and answered that the specs
// refuse. The zero value is not usable; see New.
type Checker struct {
	specs *specSet

	mu       sync.Mutex
	problems map[string]bool
	checked  int
}

// New returns a Checker whose problems fail tb when its test ends.
func New(tb testing.TB) *Checker {
	tb.Helper()
	set, err := loadSpecs()
	if err != nil {
		tb.Fatalf("spectest: %v", err)
	}
	c := &Checker{specs: set, problems: map[string]bool{}}
	tb.Cleanup(func() {
		for _, p := range c.Problems() {
			tb.Errorf("fake Clerk traffic breaks Clerk's OpenAPI spec: %s", p)
		}
	})
	return c
}

// Problems returns the violations seen so far, sorted.
func (c *Checker) Problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.problems))
	for p := range c.problems {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Checked returns how many exchanges were checked against a spec.
func (c *Checker) Checked() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checked
}

func (c *Checker) report(format string, args ...any) {
	c.mu.Lock()
	c.problems[fmt.Sprintf(format, args...)] = true
	c.mu.Unlock()
}

type faultFlag struct {
	mu     sync.Mutex
	marked bool
}

func (f *faultFlag) mark() {
	f.mu.Lock()
	f.marked = true
	f.mu.Unlock()
}

func (f *faultFlag) isMarked() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.marked
}

// Attach checks every exchange of fake from now on, failing tb at its end
// on any violation. It returns the Checker for tests that look closer.
func Attach(tb testing.TB, fake *fakeclerk.Server) *Checker {
	tb.Helper()
	c := New(tb)
	fake.Use(c.Wrap)
	return c
}

// Wrap returns next with every exchange checked.
func (c *Checker) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		spec, specPath := c.specs.specFor(r.URL.Path)
		var op *Operation
		if spec != nil {
			op, _, _ = spec.Find(r.Method, specPath)
		}
		body, complete := readUpTo(r, maxChecked)
		req := apispec.Request{Method: r.Method, Path: specPath, Query: r.URL.Query(),
			Body: body, ContentType: r.Header.Get("Content-Type")}
		variant := undocumentedVariant(r.URL.Path, body)
		if op != nil && complete && variant == "" {
			if err := spec.CheckRequest(r.Context(), req); err != nil {
				c.report("request %s %s (%s): %v", r.Method, r.URL.Path, op.ID, err)
			}
		}

		flag := &faultFlag{}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK, fault: flag}
		next.ServeHTTP(rec, r.WithContext(fakeclerk.WithFaultMarker(r.Context(), flag.mark)))

		switch {
		case flag.isMarked(), variant != "":
			// Off the spec on purpose.
		case op == nil:
			// A 404 for an unknown path is what Clerk answers too.
			if _, listed := Undocumented[key]; !listed && rec.status != http.StatusNotFound {
				c.report("%s: not in Clerk's specs and not listed in spectest.Undocumented", key)
			}
		case !rec.wrote || rec.overflow || !complete:
			// The client went away before an answer, or a size test.
		default:
			c.mu.Lock()
			c.checked++
			c.mu.Unlock()
			resp := Response{Status: rec.status, Header: rec.Header(), Body: rec.body.Bytes()}
			if err := spec.CheckResponse(r.Context(), req, resp); err != nil {
				c.report("answer to %s %s (%s), status %d: %v", r.Method, r.URL.Path, op.ID, rec.status, err)
			}
		}
	})
}

// readUpTo reads r's body for checking and puts it back for the handler.
func readUpTo(r *http.Request, limit int64) ([]byte, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	data, _ := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), r.Body), r.Body}
	return data, int64(len(data)) <= limit
}

// recorder passes an answer through and keeps a copy of its start.
type recorder struct {
	http.ResponseWriter
	status   int
	wrote    bool
	body     bytes.Buffer
	overflow bool
	fault    *faultFlag // a marked answer is not checked: do not keep it
}

func (rw *recorder) WriteHeader(code int) {
	if !rw.wrote {
		rw.status, rw.wrote = code, true
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(p []byte) (int, error) {
	rw.wrote = true
	if !rw.overflow && !rw.fault.isMarked() {
		if rw.body.Len()+len(p) > maxChecked {
			rw.overflow = true
			rw.body.Reset()
		} else {
			rw.body.Write(p)
		}
	}
	return rw.ResponseWriter.Write(p)
}

// Flush lets streaming handlers (slow and endless answers) keep working.
func (rw *recorder) Flush() {
	if f, ok := rw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the real writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }
