package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// rssLimit is the peak resident memory a server may reach however its
// client misbehaves. An idle server sits near 15 MiB.
const rssLimit = 64 << 20

// peakRSS is a process's peak resident set size (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// A client that floods requests and never reads stdout: the server stops
// reading stdin once its output queue is full, instead of buffering an
// answer per request (mcp-go's stdio server reached 3.6 GB after 164k
// tools/list). Once the client reads again, every request is answered.
func TestNonReadingClientKeepsMemoryBounded(t *testing.T) {
	const requests = 30000
	w := newWorld(t)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve")
	cmd.Env = w.env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	defer cmd.Process.Kill()

	write := func(line string) error {
		_, err := io.WriteString(inW, line+"\n")
		return err
	}
	if err := write(initializeLine); err != nil {
		t.Fatal(err)
	}
	sent := 0
	// Flood until the server stops taking input. The deadline only says
	// when to stop flooding: the memory bound must hold whenever it is
	// measured, so a loaded machine that trips it early weakens the test
	// but cannot make it fail wrongly.
	for ; sent < requests; sent++ {
		inW.SetWriteDeadline(time.Now().Add(2 * time.Second))
		err := write(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, sent+1))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	stalled := peakRSS(t, cmd.Process.Pid)
	t.Logf("server stopped reading after %d requests; peak RSS %.1f MiB", sent, float64(stalled)/(1<<20))

	// Read again: every request, sent so far and still to send, is answered.
	answers := make(chan int)
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 8<<20)
		n := 0
		for sc.Scan() {
			n++
		}
		answers <- n
	}()
	inW.SetWriteDeadline(time.Time{})
	for ; sent < requests; sent++ {
		if err := write(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, sent+1)); err != nil {
			t.Fatal(err)
		}
	}
	peak := peakRSS(t, cmd.Process.Pid)
	inW.Close()
	select {
	case n := <-answers:
		if n != requests+1 {
			t.Errorf("%d answers to %d requests", n, requests+1)
		}
	case <-time.After(patience):
		t.Fatal("the server did not answer everything")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	t.Logf("peak RSS %.1f MiB over %d tools/list", float64(peak)/(1<<20), requests)
	if stalled > rssLimit || peak > rssLimit {
		t.Fatalf("peak RSS %d MiB while the client did not read (%d MiB overall), want under %d MiB",
			stalled>>20, peak>>20, rssLimit>>20)
	}
}
