package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY returns a new pseudo-terminal, or skips the test where there is
// none to be had (a container without devpts).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skip("no pseudo-terminal:", err)
	}
	t.Cleanup(func() { m.Close() })
	var unlock int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Skip("unlock pseudo-terminal:", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Skip("pseudo-terminal number:", errno)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skip("open pseudo-terminal:", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// Run by a person in a terminal, serve says what it is and where to get
// help, on stderr, and goes on serving: an editor that gives it a
// terminal still gets answers.
func TestServeInTerminalSaysWhatItIs(t *testing.T) {
	w := newWorld(t)
	master, slave := openPTY(t)
	s := w.serve(t, slave)
	slave.Close() // the child has its own copy
	if !s.awaitLog(t, "clerk-mcp help") {
		t.Fatalf("no hint on stderr:\n%s", s.stderr)
	}
	for _, want := range []string{"MCP server", "editors start it", "clerk-mcp install"} {
		if !strings.Contains(s.stderr.String(), want) {
			t.Errorf("hint lacks %q:\n%s", want, s.stderr)
		}
	}
	if _, err := master.WriteString(initializeLine + "\n"); err != nil {
		t.Fatal(err)
	}
	if m := s.next(t); m["result"] == nil {
		t.Fatalf("initialize over a terminal: %v", m)
	}
}
