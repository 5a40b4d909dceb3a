// Command mcpbench measures clerk-mcp against the floor server (a minimal
// mcp-go stdio server, see ../floor) in the same run, on a fake Clerk on
// loopback: cold start to the initialize answer, whoami call latency, peak
// RSS after N calls, and `clerk-mcp whoami --json` as a whole process.
// Run it with scripts/bench.sh.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clerk-mcp/clerk-mcp/internal/fakeclerk"
	"github.com/clerk-mcp/clerk-mcp/store"
)

type fatalT struct{}

func (fatalT) Cleanup(func()) {}

func main() {
	clerkBin := flag.String("clerk-mcp", "", "clerk-mcp binary")
	floorBin := flag.String("floor", "", "floor binary")
	starts := flag.Int("starts", 20, "cold starts per server")
	calls := flag.Int("calls", 300, "whoami calls per server")
	flag.Parse()

	fake := fakeclerk.New(fatalT{})
	defer fake.Close()
	dir, _ := os.MkdirTemp("", "mcpbench")
	defer os.RemoveAll(dir)
	tr := fake.Mint()
	st, _ := store.Open(store.Options{Dir: dir, Issuer: fake.URL, ClientID: fakeclerk.ClientID, Mode: store.ModeFile})
	st.Save(context.Background(), &store.Session{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken,
		TokenType: "Bearer", Expiry: time.Now().Add(time.Hour), ObtainedAt: time.Now(), Issuer: fake.URL, ClientID: fakeclerk.ClientID})

	env := append(os.Environ(), "CLERK_OAUTH_BASE_URL="+fake.URL, "CLERK_PLATFORM_API_URL="+fake.URL,
		"CLERK_BACKEND_API_URL="+fake.URL, "CLERK_CONFIG_DIR="+dir, "CLERK_MCP_STORE=file",
		"FLOOR_BASE_URL="+fake.URL, "FLOOR_TOKEN="+tr.AccessToken)

	type row struct{ name, floor, clerk, ratio string }
	var rows []row
	ratio := func(a, b float64) string { return fmt.Sprintf("%.2fx", a/b) }

	// Alternate the two servers so both see the same machine noise.
	var coldF, coldC []time.Duration
	for range *starts {
		coldF = append(coldF, coldStart(*floorBin, env))
		coldC = append(coldC, coldStart(*clerkBin, env))
	}
	mf, mc := median(coldF), median(coldC)
	rows = append(rows, row{"cold start to initialize answer (median)", ms(mf), ms(mc), ratio(float64(mc), float64(mf))})

	lf, rssF := callLatency(*floorBin, env, *calls)
	lc, rssC := callLatency(*clerkBin, env, *calls)
	rows = append(rows, row{fmt.Sprintf("whoami tools/call p50 (%d calls)", *calls), ms(pct(lf, 50)), ms(pct(lc, 50)), ratio(float64(pct(lc, 50)), float64(pct(lf, 50)))})
	rows = append(rows, row{fmt.Sprintf("whoami tools/call p99 (%d calls)", *calls), ms(pct(lf, 99)), ms(pct(lc, 99)), ratio(float64(pct(lc, 99)), float64(pct(lf, 99)))})
	rows = append(rows, row{fmt.Sprintf("peak RSS after %d calls", *calls), mib(rssF), mib(rssC), ratio(float64(rssC), float64(rssF))})

	var whoami []time.Duration
	for range *starts {
		t0 := time.Now()
		cmd := exec.Command(*clerkBin, "whoami", "--json")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "whoami --json: %v: %s\n", err, out)
			os.Exit(1)
		}
		whoami = append(whoami, time.Since(t0))
	}
	rows = append(rows, row{"`clerk-mcp whoami --json` whole process (median)", "-", ms(median(whoami)), fmt.Sprintf("%.0fx faster than Clerk CLI's ~115 ms", 115/(float64(median(whoami))/1e6))})

	fmt.Println("| measure | floor (mcp-go minimal) | clerk-mcp | clerk-mcp / floor |")
	fmt.Println("|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s |\n", r.name, r.floor, r.clerk, r.ratio)
	}
	if fi, err := os.Stat(*clerkBin); err == nil {
		ff, _ := os.Stat(*floorBin)
		fmt.Printf("\nBinary size: clerk-mcp %.1f MiB, floor %.1f MiB.\n", float64(fi.Size())/(1<<20), float64(ff.Size())/(1<<20))
	}
}

const initLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}` + "\n"

type proc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func start(bin string, env []string) *proc {
	cmd := exec.Command(bin)
	cmd.Env = env
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	return &proc{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
}

func (p *proc) roundTrip(line string) {
	io.WriteString(p.in, line)
	if _, err := p.out.ReadString('\n'); err != nil {
		panic(err)
	}
}

func (p *proc) stop() {
	p.in.Close()
	p.cmd.Wait()
}

func coldStart(bin string, env []string) time.Duration {
	t0 := time.Now()
	p := start(bin, env)
	p.roundTrip(initLine)
	d := time.Since(t0)
	p.stop()
	return d
}

func callLatency(bin string, env []string, n int) ([]time.Duration, int64) {
	p := start(bin, env)
	p.roundTrip(initLine)
	io.WriteString(p.in, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n")
	var lat []time.Duration
	for i := range n {
		line, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": i + 2, "method": "tools/call",
			"params": map[string]any{"name": "whoami", "arguments": map[string]any{}}})
		t0 := time.Now()
		p.roundTrip(string(line) + "\n")
		lat = append(lat, time.Since(t0))
	}
	rss := peakRSS(p.cmd.Process.Pid)
	p.stop()
	return lat, rss
}

// peakRSS reads VmHWM from /proc (Linux), in bytes.
func peakRSS(pid int) int64 {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func median(d []time.Duration) time.Duration { return pct(d, 50) }

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
func mib(b int64) string        { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
