package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestResolveBuild(t *testing.T) {
	vcs := &debug.BuildInfo{
		Main: debug.Module{Version: "v0.0.0-20250102030405-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2025-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name                string
		version, commit, dt string
		info                *debug.BuildInfo
		want                buildInfo
	}{
		{name: "stamped", version: "1.2.3", commit: "feedface", dt: "2025-06-07T08:09:10Z", info: vcs,
			want: buildInfo{Version: "1.2.3", Commit: "feedface", Date: "2025-06-07T08:09:10Z"}},
		// A stamped commit and the toolchain's VCS data may describe
		// different trees: the stamp wins whole.
		{name: "stamped version only", version: "1.2.3", info: vcs,
			want: buildInfo{Version: "1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2025-01-02T03:04:05Z", Modified: true}},
		{name: "go build in a checkout", info: vcs,
			want: buildInfo{Version: "v0.0.0-20250102030405-0123456789ab+dirty", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2025-01-02T03:04:05Z", Modified: true}},
		{name: "go install of a tag", info: &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}},
			want: buildInfo{Version: "v1.4.0"}},
		{name: "devel", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want: buildInfo{Version: "devel"}},
		{name: "no build info", want: buildInfo{Version: "devel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolveBuild(tt.version, tt.commit, tt.dt, tt.info)
			tt.want.Go, tt.want.OS, tt.want.Arch = runtime.Version(), runtime.GOOS, runtime.GOARCH
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// buildClerkMCP builds this command with extra go build flags into a
// temporary directory and returns the binary's path.
func buildClerkMCP(t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "clerk-mcp")
	args := append(append([]string{"build", "-o", bin}, flags...), ".")
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// versionOf runs `bin version` and `bin version --json`.
func versionOf(t *testing.T, bin string) (string, buildInfo) {
	t.Helper()
	text, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("version: %v", err)
	}
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("version --json: %v", err)
	}
	var b buildInfo
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatalf("version --json: %v\n%s", err, out)
	}
	return string(text), b
}

// TestVersionStamped stamps the binary with the -X flags that
// .goreleaser.yaml passes. (Not with its -trimpath: that would recompile
// every package, and scripts/release-check.sh runs the real build.)
func TestVersionStamped(t *testing.T) {
	t.Parallel()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	bin := buildClerkMCP(t, "-ldflags",
		"-s -w -X main.version=1.2.3 -X main.commit="+commit+" -X main.date=2025-06-07T08:09:10Z")
	text, b := versionOf(t, bin)
	want := "clerk-mcp 1.2.3\ncommit: " + commit + "\ndate:   2025-06-07T08:09:10Z\ngo:     " +
		runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if text != want {
		t.Errorf("version:\n%s\nwant:\n%s", text, want)
	}
	if b.Version != "1.2.3" || b.Commit != commit || b.Date != "2025-06-07T08:09:10Z" || b.Modified ||
		b.Go != runtime.Version() || b.OS != runtime.GOOS || b.Arch != runtime.GOARCH {
		t.Errorf("version --json: %+v", b)
	}
}

// TestVersionFromBuildInfo checks an unstamped go build in this git
// checkout: the commit and its time come from the VCS data the Go
// toolchain records.
func TestVersionFromBuildInfo(t *testing.T) {
	t.Parallel()
	head, err := exec.Command("git", "log", "-1", "--format=%H %ct").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	fields := strings.Fields(string(head))
	commit := fields[0]
	unix, _ := strconv.ParseInt(fields[1], 10, 64)
	// -buildvcs=true overrides a GOFLAGS=-buildvcs=false from the
	// environment, which would leave nothing to fall back on.
	bin := buildClerkMCP(t, "-buildvcs=true")
	text, b := versionOf(t, bin)
	if b.Commit != commit {
		t.Errorf("version --json commit = %q, want %q", b.Commit, commit)
	}
	if d, err := time.Parse(time.RFC3339, b.Date); err != nil || d.Unix() != unix {
		t.Errorf("version --json date = %q, want the commit time %s", b.Date, time.Unix(unix, 0).UTC())
	}
	// Go stamps a pseudo-version naming the commit (or the tag on it).
	if b.Version == "devel" || b.Version == "" {
		t.Errorf("version --json version = %q, want the module version Go recorded", b.Version)
	}
	if !strings.HasPrefix(text, "clerk-mcp "+b.Version+"\ncommit: "+commit) {
		t.Errorf("version:\n%s", text)
	}
}

func TestVersionUnstamped(t *testing.T) {
	t.Parallel()
	bin := buildClerkMCP(t, "-buildvcs=false")
	text, b := versionOf(t, bin)
	if b.Version != "devel" || b.Commit != "" || b.Date != "" {
		t.Errorf("version --json: %+v", b)
	}
	if !strings.HasPrefix(text, "clerk-mcp devel\ncommit: unknown\ndate:   unknown\n") {
		t.Errorf("version:\n%s", text)
	}
}
