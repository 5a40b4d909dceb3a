package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/gofrs/flock"
)

// TestMain lets this test binary play an appending clerk-mcp process.
func TestMain(m *testing.M) {
	if os.Getenv("AUDIT_TEST_ROLE") == "append" {
		appendMany()
		return
	}
	os.Exit(m.Run())
}

// appendMany appends AUDIT_TEST_N entries tagged with AUDIT_TEST_WRITER
// to the log in AUDIT_TEST_DIR, rotating at AUDIT_TEST_MAX bytes.
func appendMany() {
	n, _ := strconv.Atoi(os.Getenv("AUDIT_TEST_N"))
	limit, _ := strconv.ParseInt(os.Getenv("AUDIT_TEST_MAX"), 10, 64)
	l := audit.New(os.Getenv("AUDIT_TEST_DIR"))
	l.MaxSize = limit
	l.LockWait = 30 * time.Second
	writer := os.Getenv("AUDIT_TEST_WRITER")
	for i := range n {
		e := entry(fmt.Sprintf("/v1/users/%s_%05d", writer, i))
		if err := l.Append(context.Background(), e); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(0)
}

func entry(path string) audit.Entry {
	return audit.Entry{Time: time.Now().UTC(), Profile: "default", Client: "test", ClientVersion: "1",
		Target: "backend", Method: "DELETE", Path: path, Status: 200, TraceID: "trace_x",
		DurationMS: 12, Allowed: audit.AllowedNotRequired}
}

// appendConcurrently runs procs processes appending n entries each and
// returns every line of the current and rotated files.
func appendConcurrently(t *testing.T, dir string, procs, n int, limit int64) []string {
	t.Helper()
	cmds := make([]*exec.Cmd, procs)
	for p := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "AUDIT_TEST_ROLE=append", "AUDIT_TEST_DIR="+dir,
			"AUDIT_TEST_N="+strconv.Itoa(n), "AUDIT_TEST_MAX="+strconv.FormatInt(limit, 10),
			"AUDIT_TEST_WRITER="+fmt.Sprintf("w%02d", p))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[p] = cmd
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("appender: %v", err)
		}
	}
	var lines []string
	for _, name := range []string{audit.FileName + audit.OldSuffix, audit.FileName} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			t.Fatalf("%s does not end with a newline", name)
		}
	}
	return lines
}

// checkLines asserts every line is one whole entry and every writer's
// entries are all there, once, in order.
func checkLines(t *testing.T, lines []string, procs, n int) {
	t.Helper()
	next := map[string]int{}
	for i, line := range lines {
		var e audit.Entry
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil || dec.More() {
			t.Fatalf("line %d is not one entry (interleaved?): %v: %q", i, err, line)
		}
		writer, seq, ok := strings.Cut(strings.TrimPrefix(e.Path, "/v1/users/"), "_")
		k, err := strconv.Atoi(seq)
		if !ok || err != nil {
			t.Fatalf("line %d: path %q", i, e.Path)
		}
		if k != next[writer] {
			t.Fatalf("writer %s: entry %d after %d (lost or out of order)", writer, k, next[writer]-1)
		}
		next[writer]++
	}
	if len(next) != procs {
		t.Fatalf("%d writers seen, want %d", len(next), procs)
	}
	for w, k := range next {
		if k != n {
			t.Fatalf("writer %s: %d entries, want %d", w, k, n)
		}
	}
}

// Eight processes appending at once lose no line and interleave none.
func TestConcurrentProcessesAppend(t *testing.T) {
	const procs, n = 8, 200
	dir := filepath.Join(t.TempDir(), "clerk-mcp")
	lines := appendConcurrently(t, dir, procs, n, audit.MaxSize)
	if len(lines) != procs*n {
		t.Fatalf("%d lines, want %d", len(lines), procs*n)
	}
	checkLines(t, lines, procs, n)
	if _, err := os.Stat(filepath.Join(dir, audit.FileName+audit.OldSuffix)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("rotated below the size limit")
	}
}

// Rotation under concurrent appends: at the limit the file moves to
// audit.jsonl.1 and a new one starts; below twice the limit nothing is
// lost, and no file exceeds the limit.
func TestRotationUnderConcurrency(t *testing.T) {
	const procs, n = 4, 100
	line, _ := json.Marshal(entry("/v1/users/w00_00000"))
	limit := int64(len(line)+1) * procs * n * 2 / 3 // one rotation
	dir := filepath.Join(t.TempDir(), "clerk-mcp")
	lines := appendConcurrently(t, dir, procs, n, limit)
	checkLines(t, lines, procs, n)
	for _, name := range []string{audit.FileName, audit.FileName + audit.OldSuffix} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if info.Size() > limit {
			t.Errorf("%s is %d bytes, over the limit %d", name, info.Size(), limit)
		}
	}
	// A second rotation keeps one old file: the oldest lines go.
	l := audit.New(dir)
	l.MaxSize = limit
	for i := range procs * n {
		if err := l.Append(context.Background(), entry(fmt.Sprintf("/v1/users/x_%05d", i))); err != nil {
			t.Fatal(err)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(dir, audit.FileName+"*"))
	if len(matches) != 2 {
		t.Fatalf("files after more rotations: %v", matches)
	}
	recent, err := l.Recent(3)
	if err != nil || len(recent) != 3 || recent[2].Path != fmt.Sprintf("/v1/users/x_%05d", procs*n-1) {
		t.Fatalf("Recent(3) = %+v, %v", recent, err)
	}
}

// The log is created 0600 (and made so again if loosened), in a 0700
// directory.
func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := filepath.Join(t.TempDir(), "clerk-mcp")
	l := audit.New(dir)
	if err := l.Append(context.Background(), entry("/v1/users/a")); err != nil {
		t.Fatal(err)
	}
	mode := func(p string) os.FileMode {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return info.Mode().Perm()
	}
	if m := mode(l.Path()); m != 0o600 {
		t.Fatalf("log mode %o, want 600", m)
	}
	if m := mode(dir); m != 0o700 {
		t.Fatalf("directory mode %o, want 700", m)
	}
	os.Chmod(l.Path(), 0o644)
	if err := l.Append(context.Background(), entry("/v1/users/b")); err != nil {
		t.Fatal(err)
	}
	if m := mode(l.Path()); m != 0o600 {
		t.Fatalf("loosened log mode %o after an append, want 600", m)
	}
}

// A symlink planted at the log, the rotated log's name or the lock is
// never followed: the file it points to stays untouched.
func TestRefusesPlantedSymlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges")
	}
	for _, name := range []string{audit.FileName, "audit.lock"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			victim := filepath.Join(t.TempDir(), "victim")
			os.WriteFile(victim, []byte("precious\n"), 0o600)
			if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			l := audit.New(dir)
			err := l.Append(context.Background(), entry("/v1/users/a"))
			if err == nil || !strings.Contains(err.Error(), "symbolic link") {
				t.Fatalf("append over a symlinked %s: %v", name, err)
			}
			if data, _ := os.ReadFile(victim); string(data) != "precious\n" {
				t.Fatalf("the symlink's target was written: %q", data)
			}
			if name == audit.FileName {
				if _, err := l.Recent(10); err == nil {
					t.Fatal("Recent followed a symlinked log")
				}
			}
		})
	}
	// The rotated file's name: rotation replaces the link, the target
	// stays as it was.
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	os.Symlink(victim, filepath.Join(dir, audit.FileName+audit.OldSuffix))
	l := audit.New(dir)
	l.MaxSize = 300
	for i := range 5 {
		if err := l.Append(context.Background(), entry(fmt.Sprintf("/v1/users/%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious\n" {
		t.Fatalf("rotation wrote through a symlink: %q", data)
	}
}

// Another process holding the lock for longer than the wait makes an
// append fail with ErrLockTimeout, within the bound.
func TestLockTimeout(t *testing.T) {
	dir := t.TempDir()
	held := flock.New(filepath.Join(dir, "audit.lock"))
	if err := held.Lock(); err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	l := audit.New(dir)
	l.LockWait = 100 * time.Millisecond
	start := time.Now()
	err := l.Append(context.Background(), entry("/v1/users/a"))
	if !errors.Is(err, audit.ErrLockTimeout) {
		t.Fatalf("append under a held lock: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("waited %s for a 100ms bound", d)
	}
}

// Recent reads old then new, skips lines that do not decode, and a
// missing log is no entries.
func TestRecent(t *testing.T) {
	dir := t.TempDir()
	l := audit.New(dir)
	if got, err := l.Recent(5); err != nil || len(got) != 0 {
		t.Fatalf("empty log: %v, %v", got, err)
	}
	os.WriteFile(l.Path()+audit.OldSuffix, []byte(`{"path":"/v1/a","target":"backend","method":"POST","duration_ms":1}`+"\n"), 0o600)
	os.WriteFile(l.Path(), []byte("garbage\n"+`{"path":"/v1/b","target":"backend","method":"POST","duration_ms":1}`+"\n"), 0o600)
	got, err := l.Recent(0)
	if err != nil || len(got) != 2 || got[0].Path != "/v1/a" || got[1].Path != "/v1/b" {
		t.Fatalf("Recent(0) = %+v, %v", got, err)
	}
	if got, _ := l.Recent(1); len(got) != 1 || got[0].Path != "/v1/b" {
		t.Fatalf("Recent(1) = %+v", got)
	}
}

// A client chooses its name and an agent its path: neither can make one
// entry large, and an oversized line already in the file (an older
// version, or planted) hides nothing after it.
func TestLongFieldsAreBoundedAndLongLinesSkipped(t *testing.T) {
	dir := t.TempDir()
	l := audit.New(dir)
	ctx := context.Background()
	huge := strings.Repeat("x", 200<<10)
	if err := l.Append(ctx, audit.Entry{Client: huge, ClientVersion: huge, Target: "backend", Method: "POST",
		Path: "/v1/" + huge, Refused: audit.RefusedReadOnly}); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > 2<<10 {
		t.Fatalf("one entry with hostile fields takes %d bytes", info.Size())
	}
	// An oversized line, then a real entry.
	f, err := os.OpenFile(l.Path(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"client":"` + huge + `"}` + "\n")
	f.Close()
	if err := l.Append(ctx, audit.Entry{Target: "backend", Method: "DELETE", Path: "/v1/users/user_victim", Allowed: audit.AllowedElicited}); err != nil {
		t.Fatal(err)
	}
	got, err := l.Recent(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Path != "/v1/users/user_victim" {
		t.Fatalf("Recent = %d entries (%+v), want the bounded one and the victim's after the oversized line", len(got), got)
	}
	if len(got[0].Client) > 200 || !strings.HasSuffix(got[0].Client, "...") {
		t.Fatalf("client name kept at %d bytes", len(got[0].Client))
	}
}
