// Command testreport reads `go test -json` on stdin and writes what a
// person wants from a long test run: one line per package as it ends, the
// output of every failing test, and, at the end, every skipped test with
// the reason it gave. A skipped test is a test that did not run, so the
// reasons (no keyring, no Node.js, -short) belong in the summary rather
// than in a -v log nobody reads.
//
// It exits 0 whatever the tests did; scripts/test.sh takes the exit code
// from go test.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail events
	Test       string
	Elapsed    float64
	Output     string
}

// skip is a skipped test and why.
type skip struct {
	pkg, test, reason string
}

func main() {
	if err := report(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
	}
}

func report(in io.Reader, out io.Writer) error {
	pending := map[string][]string{} // output of tests and packages still running
	var skips []skip
	failed := 0
	start := time.Now()
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(out, sc.Text()) // not JSON: pass it on
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "output":
			pending[key] = append(pending[key], e.Output)
		case "skip":
			if e.Test != "" {
				skips = append(skips, skip{e.Package, e.Test, reason(pending[key])})
			} else {
				fmt.Fprintf(out, "?   \t%s\t[no test files]\n", e.Package)
			}
			delete(pending, key)
		case "pass":
			if e.Test == "" {
				fmt.Fprintf(out, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
			}
			delete(pending, key)
		case "fail":
			if e.Test != "" {
				failed++
				fmt.Fprintf(out, "--- FAIL: %s %s (%.2fs)\n%s", e.Package, e.Test, e.Elapsed, logged(pending[key]))
			} else {
				// Package output: a panic, a TestMain failure, a build error.
				fmt.Fprint(out, logged(pending[key]))
				fmt.Fprintf(out, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
			}
			delete(pending, key)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(skips) > 0 {
		fmt.Fprintf(out, "\n%d skipped:\n", len(skips))
		for _, s := range skips {
			fmt.Fprintf(out, "  %s %s: %s\n", s.pkg, s.test, s.reason)
		}
	}
	fmt.Fprintf(out, "\n%d failed test(s), %d skipped, in %s\n", failed, len(skips), time.Since(start).Round(time.Second))
	return nil
}

// logged is the output of a test or package without the runner's own
// lines (=== RUN, --- FAIL, the package's PASS/FAIL verdict), which the
// report writes itself.
func logged(output []string) string {
	var b strings.Builder
	for _, o := range output {
		line := strings.TrimSpace(o)
		if strings.HasPrefix(line, "=== ") || strings.HasPrefix(line, "--- FAIL") || strings.HasPrefix(line, "--- PASS") ||
			line == "FAIL" || line == "PASS" || strings.HasPrefix(line, "FAIL\t") || strings.HasPrefix(line, "ok  \t") {
			continue
		}
		b.WriteString(o)
	}
	return b.String()
}

// reason is what a skipped test logged, without the runner's own lines.
func reason(output []string) string {
	var lines []string
	for _, o := range output {
		line := strings.TrimSpace(o)
		if line == "" || strings.HasPrefix(line, "=== ") || strings.HasPrefix(line, "--- SKIP") {
			continue
		}
		// t.Skip lines read "file_test.go:12: reason".
		if _, after, ok := strings.Cut(line, ".go:"); ok {
			if _, msg, ok := strings.Cut(after, ": "); ok {
				line = msg
			}
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return "(no reason given)"
	}
	return strings.Join(lines, "; ")
}
