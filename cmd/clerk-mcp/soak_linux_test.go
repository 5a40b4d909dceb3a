package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clerk-mcp/clerk-mcp/internal/syncbuf"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// soakDuration is how long TestSoakWithChurn runs: CLERK_MCP_SOAK (a Go
// duration; scripts/soak.sh sets minutes), else a short run for CI.
func soakDuration(t *testing.T) time.Duration {
	if v := os.Getenv("CLERK_MCP_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("CLERK_MCP_SOAK=%q: %v", v, err)
		}
		return d
	}
	return 30 * time.Second
}

// soakServer is one clerk-mcp server process and the editor driving it.
type soakServer struct {
	cmd    *exec.Cmd
	cs     *mcp.ClientSession
	stderr *syncbuf.Buffer
	killed atomic.Bool
}

// soakStats are the soak's outcome counters.
type soakStats struct {
	mu              sync.Mutex
	calls, ok       int
	lostSessionFail int            // session_expired / not_logged_in while a session was known lost
	unexpected      map[string]int // any other failure in a surviving process
	inKilled        int            // calls in flight in a process that was killed
}

// TestSoakWithChurn runs 8 server processes against a fake Clerk issuing
// 2-second access tokens, calls them at random, and SIGKILLs them at random
// while a chaos loop also kills the process holding the refresh lock, both
// before Clerk rotates the token and in the window after it rotated and
// before the new session is persisted. Only kills in that window may lose
// the session; every call in a surviving process must succeed otherwise.
func TestSoakWithChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	duration := soakDuration(t)
	const servers = 8
	const ttl = 2 * time.Second
	const rotationDelay = 40 * time.Millisecond // widens the window after rotation
	w := newWorld(t)
	w.fake.SetAccessTTL(ttl)
	w.fake.SetRefreshDelay(rotationDelay)
	w.login(t, time.Now().Add(-time.Minute))
	lockPath := lockFile(t, w)

	stats := &soakStats{unexpected: map[string]int{}}
	var mu sync.Mutex
	slots := make([]*soakServer, servers)
	var logs []*syncbuf.Buffer
	start := func(i int) {
		buf := &syncbuf.Buffer{}
		cmd := exec.Command(binary, "serve", "--log-level", "debug")
		cmd.Env = w.env
		cmd.Stderr = buf
		client := mcp.NewClient(&mcp.Implementation{Name: "soak", Version: "1"}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: time.Second}, nil)
		if err != nil {
			t.Errorf("start server %d: %v", i, err)
			return
		}
		mu.Lock()
		slots[i] = &soakServer{cmd: cmd, cs: cs, stderr: buf}
		logs = append(logs, buf)
		mu.Unlock()
	}
	slot := func(i int) *soakServer { mu.Lock(); defer mu.Unlock(); return slots[i] }
	for i := range servers {
		start(i)
	}
	if t.Failed() {
		return
	}

	// Session-loss bookkeeping: a kill in the window loses the session; the
	// "user" logs in again once a process has noticed (invalid_grant).
	var lossOpen atomic.Bool
	var lossUntil atomic.Int64 // unix nanos: failures from the loss are expected until then
	var windowKills, beforeRotationKills, idleKills, relogins atomic.Int64
	// Restarts run beside the soak; the summary waits for them, so that
	// it reads every server's log.
	var restarts sync.WaitGroup
	kill := func(pid int) bool {
		mu.Lock()
		defer mu.Unlock()
		for i, s := range slots {
			if s != nil && s.cmd.Process.Pid == pid && !s.killed.Load() {
				s.killed.Store(true)
				s.cmd.Process.Signal(syscall.SIGKILL)
				slots[i] = nil
				restarts.Go(func() { s.cs.Close(); start(i) })
				return true
			}
		}
		return false
	}

	// The chaos hook runs inside the fake's refresh handler, where the
	// refreshing process is the one holding the lock.
	var armed atomic.Int32 // 0 none, 1 kill before rotation, 2 kill in the window
	var killAfterRotation atomic.Int64
	w.fake.OnRefresh(func(r *http.Request) {
		switch armed.Swap(0) {
		case 1:
			if pid := lockHolder(t, lockPath); pid != 0 && kill(pid) {
				beforeRotationKills.Add(1)
				// Clerk acts only on requests whose client is still there.
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
					t.Error("the fake never saw the killed refresher's connection close")
				}
			}
		case 2:
			if pid := lockHolder(t, lockPath); pid != 0 {
				lossOpen.Store(true)
				lossUntil.Store(time.Now().Add(time.Hour).UnixNano())
				killAfterRotation.Store(int64(pid))
			}
		}
	})
	// After Clerk rotated and before it answers: the kill loses the session.
	w.fake.OnRotate(func() {
		pid := int(killAfterRotation.Swap(0))
		if pid == 0 {
			return
		}
		if kill(pid) {
			windowKills.Add(1)
			time.Sleep(100 * time.Millisecond) // the answer then finds the client gone
		} else {
			lossOpen.Store(false)
			lossUntil.Store(time.Now().Add(2 * time.Second).UnixNano())
		}
	})

	ctx, stop := context.WithTimeout(context.Background(), duration)
	defer stop()
	// No kill is armed in the soak's last seconds: a session lost then
	// might not be noticed (an invalid_grant) before the soak ends.
	quiet := time.Now().Add(duration - 4*time.Second)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() {
			for ctx.Err() == nil {
				time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
				s := slot(i)
				if s == nil {
					continue
				}
				callCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				res, err := s.cs.CallTool(callCtx, &mcp.CallToolParams{Name: "whoami"})
				cancel()
				stats.record(s, res, err, time.Now().UnixNano() < lossUntil.Load())
			}
		})
	}
	// The user notices a lost session and logs in again.
	wg.Go(func() {
		seen := 0
		for ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			if c := w.fake.Counts(); c.InvalidGrants > seen && lossOpen.Load() {
				seen = c.InvalidGrants
				unlock, err := w.store(t).Lock(context.Background(), 10*time.Second)
				if err != nil {
					t.Error(err)
					continue
				}
				w.login(t, time.Now().Add(-time.Minute))
				unlock()
				relogins.Add(1)
				lossOpen.Store(false)
				lossUntil.Store(time.Now().Add(2 * time.Second).UnixNano())
			}
		}
	})
	// Chaos: every 0.4-1.2 s, kill an idle (non-refreshing) process, or arm
	// a kill of the refresher before rotation, or (rarer) in the window.
	wg.Go(func() {
		for ctx.Err() == nil {
			time.Sleep(time.Duration(400+rand.IntN(800)) * time.Millisecond)
			if lossOpen.Load() || time.Now().After(quiet) {
				continue
			}
			switch r := rand.IntN(20); {
			case r < 8:
				holder := lockHolder(t, lockPath)
				var pids []int
				mu.Lock()
				for _, s := range slots {
					if s != nil && s.cmd.Process.Pid != holder {
						pids = append(pids, s.cmd.Process.Pid)
					}
				}
				mu.Unlock()
				if len(pids) > 0 && kill(pids[rand.IntN(len(pids))]) {
					idleKills.Add(1)
				}
			case r < 15:
				armed.Store(1)
			default:
				armed.Store(2)
			}
		}
	})
	wg.Wait()
	armed.Store(0)
	restarts.Wait()

	c := w.fake.Counts()
	stats.mu.Lock()
	defer stats.mu.Unlock()
	mu.Lock()
	window := refreshWindows(logs)
	mu.Unlock()
	t.Logf("soak %s, %d servers, %s tokens: %d calls, %d ok, %d failed from a lost session, %d in killed processes, unexpected failures %v",
		duration, servers, ttl, stats.calls, stats.ok, stats.lostSessionFail, stats.inKilled, stats.unexpected)
	t.Logf("kills: %d idle, %d refresher before rotation, %d refresher in the window; sessions lost: %d (re-logins %d)",
		idleKills.Load(), beforeRotationKills.Load(), windowKills.Load(), c.InvalidGrants, relogins.Load())
	t.Logf("refreshes: %d done, %d attempts, %d abandoned before rotation, %d invalid_grant; one per %.2fs of soak",
		c.Refreshes, c.RefreshAttempts, c.AbandonedRefreshes, c.InvalidGrants, duration.Seconds()/float64(max(c.Refreshes, 1)))
	t.Logf("loss window (rotation request + persist, %s injected delay included): %s", rotationDelay, window)

	if len(stats.unexpected) > 0 {
		t.Errorf("calls failed in surviving processes: %v", stats.unexpected)
	}
	if stats.ok < stats.calls/2 {
		t.Errorf("only %d of %d calls succeeded", stats.ok, stats.calls)
	}
	if got, want := int64(c.InvalidGrants), windowKills.Load(); got != want {
		t.Errorf("%d sessions lost (invalid_grant), want exactly the %d kills in the rotation window", got, want)
	}
	if c.RefreshAttempts != c.Refreshes+c.InvalidGrants+c.AbandonedRefreshes {
		t.Errorf("refresh attempts %d != refreshes %d + invalid_grant %d + abandoned %d: a refresh failed otherwise",
			c.RefreshAttempts, c.Refreshes, c.InvalidGrants, c.AbandonedRefreshes)
	}
	// Tokens live 2 s and are refreshed in their last second: at most one
	// refresh per second of soak, plus one per re-login and killed refresher.
	if limit := int(duration/(ttl/2)) + int(relogins.Load()+beforeRotationKills.Load()) + 2; c.Refreshes > limit {
		t.Errorf("%d refreshes in %s, want at most %d (one per expiry)", c.Refreshes, duration, limit)
	}
	if idleKills.Load() == 0 || beforeRotationKills.Load() == 0 {
		t.Errorf("the chaos loop did not exercise both idle and mid-refresh kills")
	}
}

func (s *soakStats) record(srv *soakServer, res *mcp.CallToolResult, err error, lossExpected bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if srv.killed.Load() {
		s.inKilled++
		return
	}
	s.calls++
	switch {
	case err != nil:
		s.unexpected["protocol: "+err.Error()]++
	case !res.IsError:
		s.ok++
	default:
		var env struct {
			Error struct{ Reason string } `json:"error"`
		}
		json.Unmarshal([]byte(res.Content[0].(*mcp.TextContent).Text), &env)
		if lossExpected && (env.Error.Reason == "session_expired" || env.Error.Reason == "not_logged_in") {
			s.lostSessionFail++
		} else {
			s.unexpected[env.Error.Reason]++
		}
	}
}

// lockFile returns the session lock file's path, creating it so that its
// inode is known before the first refresh.
func lockFile(t *testing.T, w *world) string {
	st := w.store(t)
	unlock, err := st.Lock(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	return st.LockPath()
}

// lockHolder returns the pid holding the flock on path, from /proc/locks,
// or 0.
func lockHolder(t *testing.T, path string) int {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	ino := strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10)
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Fatalf("/proc/locks: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		// "1: FLOCK  ADVISORY  WRITE 12345 00:2f:67890 0 EOF"; blocked
		// waiters are listed with "->" and are not holders.
		if len(f) >= 6 && f[1] == "FLOCK" && strings.HasSuffix(f[5], ":"+ino) {
			pid, _ := strconv.Atoi(f[4])
			return pid
		}
	}
	return 0
}

var refreshLine = regexp.MustCompile(`msg="refresh: done".* duration=(\S+) persist=(\S+)`)

// refreshWindows summarizes, from the servers' debug logs, how long each
// refresh was exposed: the token request plus the persist after it.
func refreshWindows(logs []*syncbuf.Buffer) string {
	var ws []time.Duration
	for _, l := range logs {
		for _, m := range refreshLine.FindAllStringSubmatch(l.String(), -1) {
			d, err1 := time.ParseDuration(m[1])
			p, err2 := time.ParseDuration(m[2])
			if err1 == nil && err2 == nil {
				ws = append(ws, d+p)
			}
		}
	}
	if len(ws) == 0 {
		return "no refreshes logged"
	}
	slices.Sort(ws)
	q := func(f float64) time.Duration { return ws[int(f*float64(len(ws)-1))].Round(10 * time.Microsecond) }
	return "p50 " + q(0.5).String() + ", p99 " + q(0.99).String() + ", max " + ws[len(ws)-1].Round(10*time.Microsecond).String() +
		" over " + strconv.Itoa(len(ws)) + " refreshes"
}
