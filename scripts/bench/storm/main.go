// Command storm measures a refresh storm: N processes that all need a token
// at the same moment, just after the stored access token expired. Each
// process is a real clerk-mcp Source (lock, re-read, refresh, persist)
// against a fake Clerk on loopback. For N = 1, 4, 16 and 64 it reports the
// refreshes Clerk saw per storm (the goal is 1), the latency of the callers'
// Token() and their wait for the cross-process lock. N = 1 is the baseline
// of the same run. It exits 1 if a storm makes other than exactly one
// refresh. Run it with scripts/bench.sh or `go run ./scripts/bench/storm`.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/store"
)

type noCleanup struct{}

func (noCleanup) Cleanup(func()) {}

// result is what one child reports.
type result struct {
	Latency  time.Duration `json:"latency"`
	LockWait time.Duration `json:"lock_wait"`
	Refresh  bool          `json:"refreshed"`
	Err      string        `json:"error,omitempty"`
}

func main() {
	if os.Getenv("STORM_CHILD") != "" {
		child()
		return
	}
	rounds := flag.Int("rounds", 5, "storms per process count")
	sizes := flag.String("n", "1,4,16,64", "process counts")
	flag.Parse()

	fake := fakeclerk.New(noCleanup{})
	defer fake.Close()
	dir, _ := os.MkdirTemp("", "storm")
	defer os.RemoveAll(dir)
	self, _ := os.Executable()
	env := append(os.Environ(), "STORM_CHILD=1", "CLERK_OAUTH_BASE_URL="+fake.URL, "CLERK_PLATFORM_API_URL="+fake.URL,
		"CLERK_BACKEND_API_URL="+fake.URL, "CLERK_CONFIG_DIR="+dir, "CLERK_MCP_STORE=file")
	st, err := store.Open(store.Options{Dir: dir, Issuer: fake.URL, ClientID: fakeclerk.ClientID, Mode: store.ModeFile})
	if err != nil {
		fail(err)
	}

	fmt.Printf("refresh storm: N processes need a token at once after expiry; %d storms each\n\n", *rounds)
	fmt.Println("| processes | refreshes per storm | invalid_grant | Token() p50 | p99 | lock wait p50 | p99 | p50 / 1-process p50 |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	var base time.Duration
	failed := false
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			fail(fmt.Errorf("bad -n entry %q", f))
		}
		var lat, wait []time.Duration
		refreshes := map[int]int{}
		before := fake.Counts()
		for range *rounds {
			tr := fake.Mint()
			st.Save(context.Background(), &store.Session{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken,
				TokenType: "Bearer", Expiry: time.Now().Add(-time.Second), ObtainedAt: time.Now().Add(-time.Hour),
				Issuer: fake.URL, ClientID: fakeclerk.ClientID})
			r0 := fake.Counts().Refreshes
			for _, r := range storm(self, env, n) {
				if r.Err != "" {
					fail(fmt.Errorf("a process failed: %s", r.Err))
				}
				lat = append(lat, r.Latency)
				wait = append(wait, r.LockWait)
			}
			refreshes[fake.Counts().Refreshes-r0]++
		}
		after := fake.Counts()
		if len(refreshes) != 1 || refreshes[1] != *rounds || after.InvalidGrants != before.InvalidGrants {
			failed = true
		}
		p50 := quantile(lat, 0.5)
		if base == 0 {
			base = p50
		}
		fmt.Printf("| %d | %s | %d | %s | %s | %s | %s | %.1fx |\n", n, describe(refreshes), after.InvalidGrants-before.InvalidGrants,
			ms(p50), ms(quantile(lat, 0.99)), ms(quantile(wait, 0.5)), ms(quantile(wait, 0.99)), float64(p50)/float64(base))
	}
	if failed {
		fail(errors.New("a storm made other than exactly one refresh, or got invalid_grant"))
	}
}

// storm starts n children, waits until all are ready, releases them at
// once and collects their results.
func storm(self string, env []string, n int) []result {
	type proc struct {
		cmd *exec.Cmd
		in  *os.File
		out *bufio.Reader
	}
	procs := make([]proc, n)
	for i := range procs {
		cmd := exec.Command(self)
		cmd.Env = env
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			fail(err)
		}
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			fail(err)
		}
		procs[i] = proc{cmd: cmd, in: stdin.(*os.File), out: bufio.NewReader(stdout)}
	}
	for _, p := range procs {
		if line, err := p.out.ReadString('\n'); err != nil || line != "ready\n" {
			fail(fmt.Errorf("child not ready: %q %v", line, err))
		}
	}
	for _, p := range procs {
		p.in.Write([]byte("go\n"))
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() {
			line, _ := p.out.ReadString('\n')
			if err := json.Unmarshal([]byte(line), &results[i]); err != nil {
				results[i].Err = fmt.Sprintf("bad report %q", line)
			}
			p.cmd.Wait()
		})
	}
	wg.Wait()
	return results
}

// child is one process of the storm: it sets up a Source as clerk-mcp
// does, says ready, and asks for a token when told to go.
func child() {
	cfg, err := auth.ConfigFromEnv(os.Getenv)
	if err != nil {
		fail(err)
	}
	st, err := cfg.OpenStore()
	if err != nil {
		fail(err)
	}
	rec := &lockWaitRecorder{}
	src := auth.NewSource(st, auth.NewClient(cfg, nil), auth.SourceOptions{Logger: slog.New(rec)})
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	start := time.Now()
	_, err = src.Token(context.Background())
	r := result{Latency: time.Since(start), LockWait: rec.wait, Refresh: rec.refreshed}
	if err != nil {
		r.Err = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

// lockWaitRecorder keeps the lock_wait attribute of Source's debug events.
type lockWaitRecorder struct {
	wait      time.Duration
	refreshed bool
}

func (r *lockWaitRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *lockWaitRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *lockWaitRecorder) WithGroup(string) slog.Handler            { return r }
func (r *lockWaitRecorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message == "refresh: done" {
		r.refreshed = true
	}
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "lock_wait" {
			r.wait = a.Value.Duration()
		}
		return true
	})
	return nil
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// describe renders how many storms saw how many refreshes, e.g. "1 (5 of 5)".
func describe(m map[int]int) string {
	var parts []string
	total := 0
	for _, c := range m {
		total += c
	}
	for k, c := range m {
		parts = append(parts, fmt.Sprintf("%d (%d of %d)", k, c, total))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "storm:", err)
	os.Exit(1)
}
