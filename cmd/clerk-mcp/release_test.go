package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The MCP Registry entry (server.json) and the MCP bundle manifest
// (manifest.json) are checked against their schemas by
// scripts/release-check.sh, which needs the network for the validators.
// These tests check, offline, what no schema knows: that both files agree
// with each other, with the README and with the commands they run.

// serverJSON is the part of server.json these tests read.
type serverJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     string `json:"version"`
	Packages    []struct {
		RegistryType string `json:"registryType"`
		Identifier   string `json:"identifier"`
		Version      string `json:"version"`
		FileSHA256   string `json:"fileSha256"`
		Transport    struct {
			Type string `json:"type"`
		} `json:"transport"`
		EnvironmentVariables []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			IsSecret    bool   `json:"isSecret"`
		} `json:"environmentVariables"`
	} `json:"packages"`
}

// bundleManifest is the part of manifest.json these tests read.
type bundleManifest struct {
	ManifestVersion string `json:"manifest_version"`
	Name            string `json:"name"`
	Version         string `json:"version"`
	Server          struct {
		Type       string `json:"type"`
		EntryPoint string `json:"entry_point"`
		MCPConfig  struct {
			Command           string            `json:"command"`
			Args              []string          `json:"args"`
			Env               map[string]string `json:"env"`
			PlatformOverrides map[string]struct {
				Command string `json:"command"`
			} `json:"platform_overrides"`
		} `json:"mcp_config"`
	} `json:"server"`
	Tools []struct {
		Name string `json:"name"`
	} `json:"tools"`
	UserConfig map[string]struct {
		Type      string `json:"type"`
		Sensitive bool   `json:"sensitive"`
		Default   any    `json:"default"`
	} `json:"user_config"`
}

// readJSON decodes a file at the repository root. Unknown fields are
// fine (the structs above are partial); data after the object is not.
func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile("../../" + name)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if dec.More() {
		t.Fatalf("%s: data after the JSON object", name)
	}
}

// secretVars are the variables that hold credentials.
var secretVars = []string{"CLERK_PLATFORM_API_KEY", "CLERK_SECRET_KEY"}

func TestServerJSON(t *testing.T) {
	var s serverJSON
	readJSON(t, "server.json", &s)
	var m bundleManifest
	readJSON(t, "manifest.json", &m)

	// What the registry requires beyond the schema's shape.
	if !regexp.MustCompile(`^io\.github\.clerk-mcp/[a-zA-Z0-9._-]+$`).MatchString(s.Name) {
		t.Errorf("name %q: the registry accepts io.github.OWNER/... only from that GitHub owner", s.Name)
	}
	if n := len(s.Description); n == 0 || n > 100 {
		t.Errorf("description has %d characters, want 1 to 100", n)
	}
	if s.Version != m.Version {
		t.Errorf("server.json version %q, manifest.json version %q: release them together", s.Version, m.Version)
	}
	if len(s.Packages) != 1 || s.Packages[0].RegistryType != "mcpb" {
		t.Fatalf("want one mcpb package, got %+v", s.Packages)
	}
	p := s.Packages[0]
	wantID := "https://github.com/clerk-mcp/clerk-mcp/releases/download/v" + s.Version + "/clerk-mcp_" + s.Version + ".mcpb"
	if p.Identifier != wantID || p.Version != s.Version {
		t.Errorf("package %s@%s, want %s@%s (the name scripts/release-check.sh gives the bundle)", p.Identifier, p.Version, wantID, s.Version)
	}
	// The hash exists only once a release is built: release-check.sh
	// writes it into dist/server.json, the file to publish.
	if p.FileSHA256 != "" {
		t.Errorf("server.json has a fileSha256; it belongs in the generated dist/server.json only")
	}
	if p.Transport.Type != "stdio" {
		t.Errorf("transport %q, want stdio", p.Transport.Type)
	}

	// Every CLERK_ variable the README documents, and no other, each
	// with a description; the credentials marked secret.
	var names, secrets []string
	for _, v := range p.EnvironmentVariables {
		names = append(names, v.Name)
		if v.IsSecret {
			secrets = append(secrets, v.Name)
		}
		if v.Description == "" {
			t.Errorf("%s has no description", v.Name)
		}
	}
	slices.Sort(names)
	slices.Sort(secrets)
	if want := readmeClerkVars(t); !slices.Equal(names, want) {
		t.Errorf("server.json variables:\n%v\nREADME's configuration table:\n%v", names, want)
	}
	if !slices.Equal(secrets, secretVars) {
		t.Errorf("secret variables %v, want %v", secrets, secretVars)
	}
}

// readmeClerkVars returns the CLERK_ variables in the README's
// configuration table, sorted.
func readmeClerkVars(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var vars []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(CLERK_[A-Z_]+)` \\|").FindAllSubmatch(readme, -1) {
		vars = append(vars, string(m[1]))
	}
	if len(vars) == 0 {
		t.Fatal("no CLERK_ variables found in README.md's configuration table")
	}
	slices.Sort(vars)
	return slices.Compact(vars)
}

func TestBundleManifest(t *testing.T) {
	var m bundleManifest
	readJSON(t, "manifest.json", &m)
	if m.Name != "clerk-mcp" || m.Server.Type != "binary" {
		t.Errorf("name %q, server type %q", m.Name, m.Server.Type)
	}
	// release-check.sh puts the macOS binary at the entry point and the
	// Windows one beside it with .exe.
	cfg := m.Server.MCPConfig
	if cfg.Command != "${__dirname}/"+m.Server.EntryPoint || m.Server.EntryPoint != "server/clerk-mcp" {
		t.Errorf("command %q, entry point %q", cfg.Command, m.Server.EntryPoint)
	}
	if got := cfg.PlatformOverrides["win32"].Command; got != cfg.Command+".exe" {
		t.Errorf("win32 command %q, want %q", got, cfg.Command+".exe")
	}

	// Every ${user_config.KEY} is declared, and credentials are masked.
	uses := regexp.MustCompile(`\$\{user_config\.([a-z_]+)\}`)
	substitute := func(s string) string {
		return uses.ReplaceAllStringFunc(s, func(ref string) string {
			key := uses.FindStringSubmatch(ref)[1]
			opt, ok := m.UserConfig[key]
			if !ok {
				t.Errorf("%s is not in user_config", ref)
				return ""
			}
			if opt.Default == nil {
				return ""
			}
			b, _ := json.Marshal(opt.Default)
			return strings.Trim(string(b), `"`)
		})
	}
	for name, value := range cfg.Env {
		key := uses.FindStringSubmatch(value)
		if slices.Contains(secretVars, name) && (key == nil || !m.UserConfig[key[1]].Sensitive) {
			t.Errorf("%s = %q: want a sensitive user_config value", name, value)
		}
		substitute(value)
	}

	// The arguments, as the host substitutes them, are ones serve accepts.
	if len(cfg.Args) == 0 || cfg.Args[0] != "serve" {
		t.Fatalf("args %q, want serve first", cfg.Args)
	}
	args := []string{"serve"}
	for _, a := range cfg.Args[1:] {
		args = append(args, substitute(a))
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), append(args, "-h"), strings.NewReader(""), new(bytes.Buffer), &stderr, func(string) string { return "" }); code != exitOK {
		t.Errorf("clerk-mcp %s -h: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}

	// The tools listed are the ones the server has: those whose schemas
	// the server tests keep in testdata/tools.
	var listed, want []string
	for _, tool := range m.Tools {
		listed = append(listed, tool.Name)
	}
	snapshots, _ := filepath.Glob("../../testdata/tools/*.json")
	for _, f := range snapshots {
		want = append(want, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	slices.Sort(listed)
	if len(want) == 0 || !slices.Equal(listed, want) {
		t.Errorf("manifest tools %v, want %v", listed, want)
	}
}
