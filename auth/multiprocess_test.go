package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
)

// childResult is what a token-child process reports on stdout.
type childResult struct {
	TokenHash string `json:"token_hash"`
	Email     string `json:"email"`
	Error     string `json:"error"`
}

// runTokenChild is a clerk-mcp process that needs a token at a given
// moment: it waits for CLERK_MCP_TEST_START, gets a token, calls userinfo.
func runTokenChild() int {
	cfg, err := auth.ConfigFromEnv(os.Getenv)
	if err != nil {
		return report(childResult{Error: err.Error()})
	}
	st, err := cfg.OpenStore()
	if err != nil {
		return report(childResult{Error: err.Error()})
	}
	src := auth.NewSource(st, auth.NewClient(cfg, nil), auth.SourceOptions{})
	startNanos, _ := strconv.ParseInt(os.Getenv("CLERK_MCP_TEST_START"), 10, 64)
	time.Sleep(time.Until(time.Unix(0, startNanos)))
	ctx := context.Background()
	tok, err := src.Token(ctx)
	if err != nil {
		return report(childResult{Error: err.Error()})
	}
	info, err := src.UserInfo(ctx)
	if err != nil {
		return report(childResult{Error: err.Error()})
	}
	sum := sha256.Sum256([]byte(tok.AccessToken))
	return report(childResult{TokenHash: hex.EncodeToString(sum[:8]), Email: info.Email})
}

func report(r childResult) int {
	json.NewEncoder(os.Stdout).Encode(r)
	if r.Error != "" {
		return 1
	}
	return 0
}

// runChildren starts n token-child processes that all ask for a token at
// the same moment and returns their results.
func runChildren(t *testing.T, e *testEnv, n int) []childResult {
	t.Helper()
	start := time.Now().Add(time.Second)
	results := make([]childResult, n)
	var wg sync.WaitGroup
	for i := range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			"CLERK_MCP_TEST_ROLE=token-child",
			"CLERK_MCP_TEST_START="+strconv.FormatInt(start.UnixNano(), 10),
			"CLERK_OAUTH_BASE_URL="+e.cfg.BaseURL,
			"CLERK_OAUTH_CLIENT_ID="+e.cfg.ClientID,
			"CLERK_CONFIG_DIR="+e.cfg.ConfigDir,
			"CLERK_MCP_STORE=file",
			"CLERK_PROFILE="+e.cfg.Profile,
		)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			cmd.Wait()
			if err := json.Unmarshal(stdout.Bytes(), &results[i]); err != nil {
				results[i].Error = fmt.Sprintf("bad child output %q (stderr %q)", stdout.String(), stderr.String())
			}
		})
	}
	wg.Wait()
	return results
}

// Rules 2-4 across processes: 8 processes racing after expiry cost one
// refresh, lose nothing, and leave a session the next process can use.
func TestMultiProcessRefreshAfterExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes; skipped in -short mode")
	}
	e := newTestEnv(t)
	e.seed(t, time.Now().Add(time.Hour))
	const procs, rounds = 8, 4
	for round := range rounds {
		e.expire(t)
		before := e.fake.Counts()
		results := runChildren(t, e, procs)
		after := e.fake.Counts()
		for i, r := range results {
			if r.Error != "" || r.Email == "" {
				t.Fatalf("round %d, process %d failed: %s", round, i, r.Error)
			}
			if r.TokenHash != results[0].TokenHash {
				t.Errorf("round %d: processes used different access tokens", round)
			}
		}
		if got := after.Refreshes - before.Refreshes; got != 1 {
			t.Errorf("round %d: %d refreshes for %d processes, want 1", round, got, procs)
		}
		if got := after.InvalidGrants - before.InvalidGrants; got != 0 {
			t.Errorf("round %d: %d invalid_grant answers, want 0", round, got)
		}
	}
	before := e.fake.Counts()
	late := runChildren(t, e, 1)
	if late[0].Error != "" {
		t.Fatalf("a new process after the storm: %s", late[0].Error)
	}
	if got := e.fake.Counts().RefreshAttempts - before.RefreshAttempts; got != 0 {
		t.Fatalf("a new process refreshed %d times a session that was still valid", got)
	}
}

// The refresh rules hold per profile: two profiles of one issuer and
// client, each with 8 processes racing after expiry, cost one refresh
// each. Each profile has its own lock, so neither waits for the other,
// and neither ever uses the other's tokens.
func TestMultiProcessRefreshTwoProfiles(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes; skipped in -short mode")
	}
	def := newTestEnv(t)
	work := *def
	work.cfg.Profile = "work"
	work.store = openStore(t, work.cfg)
	envs := []*testEnv{def, &work}
	for _, e := range envs {
		e.seed(t, time.Now().Add(time.Hour))
	}
	const procs, rounds = 8, 3
	for round := range rounds {
		for _, e := range envs {
			e.expire(t)
		}
		before := def.fake.Counts()
		results := make([][]childResult, len(envs))
		var wg sync.WaitGroup
		for i, e := range envs {
			wg.Go(func() { results[i] = runChildren(t, e, procs) })
		}
		wg.Wait()
		after := def.fake.Counts()
		for p, rs := range results {
			for i, r := range rs {
				if r.Error != "" || r.Email == "" {
					t.Fatalf("round %d, profile %d, process %d failed: %s", round, p, i, r.Error)
				}
				if r.TokenHash != rs[0].TokenHash {
					t.Errorf("round %d: processes of profile %d used different access tokens", round, p)
				}
			}
		}
		if results[0][0].TokenHash == results[1][0].TokenHash {
			t.Errorf("round %d: both profiles used the same access token", round)
		}
		// Each profile's session had expired, so each needed at least
		// one refresh: two in all means exactly one each.
		if got := after.Refreshes - before.Refreshes; got != len(envs) {
			t.Errorf("round %d: %d refreshes for %d profiles, want one each", round, got, len(envs))
		}
		if got := after.InvalidGrants - before.InvalidGrants; got != 0 {
			t.Errorf("round %d: %d invalid_grant answers, want 0", round, got)
		}
	}
	for _, e := range envs {
		if s := e.stored(t); s.Profile != e.cfg.ProfileName() {
			t.Errorf("stored session of profile %q records profile %q", e.cfg.ProfileName(), s.Profile)
		}
	}
}
