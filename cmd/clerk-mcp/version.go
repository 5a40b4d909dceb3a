package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by release builds (.goreleaser.yaml) with
// -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
// A build that does not set them (go install, go build) reports what the
// Go toolchain recorded in the binary instead; see resolveBuild.
var (
	version = "" // release version, without the leading v: 1.2.3
	commit  = "" // full git commit hash
	date    = "" // commit or build time, RFC 3339
)

// buildInfo describes this binary, for `clerk-mcp version`.
type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	// Modified reports uncommitted changes in the tree the binary was
	// built from, as far as the Go toolchain recorded it.
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
}

// currentBuild describes this binary.
func currentBuild() buildInfo {
	info, _ := debug.ReadBuildInfo()
	return resolveBuild(version, commit, date, info)
}

// resolveBuild prefers the values stamped with -ldflags and fills what is
// missing from info, which may be nil. go install of a tagged module
// records the module version but no VCS data; go build in a git checkout
// records the commit, its time and whether the tree was modified (unless
// built with -buildvcs=false).
func resolveBuild(version, commit, date string, info *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date,
		Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if info != nil {
		if b.Version == "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		// VCS settings describe the same tree as a stamped commit only
		// when no commit was stamped; never mix the two.
		if b.Commit == "" {
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					b.Commit = s.Value
				case "vcs.time":
					if b.Date == "" {
						b.Date = s.Value
					}
				case "vcs.modified":
					b.Modified = s.Value == "true"
				}
			}
		}
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	return b
}

// buildVersion is the version this binary reports, to MCP clients too.
func buildVersion() string {
	return currentBuild().Version
}

func (c *cli) version(_ context.Context, args []string) int {
	fs := c.flags("version")
	asJSON := fs.Bool("json", false, "print JSON")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	b := currentBuild()
	if *asJSON {
		c.printJSON(b)
		return exitOK
	}
	commit, date := b.Commit, b.Date
	if commit == "" {
		commit = "unknown"
	} else if b.Modified {
		commit += " (modified)"
	}
	if date == "" {
		date = "unknown"
	}
	fmt.Fprintf(c.stdout, "clerk-mcp %s\ncommit: %s\ndate:   %s\ngo:     %s %s/%s\n",
		b.Version, commit, date, b.Go, b.OS, b.Arch)
	return exitOK
}
