package auth

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
)

// OpenBrowser starts browser (the $BROWSER value; empty means the platform
// opener) on url without waiting for it. The opener's output goes to out,
// never to stdout, which may carry an MCP stream.
func OpenBrowser(browser, url string, out io.Writer) error {
	var name string
	var args []string
	if fields := strings.Fields(browser); len(fields) > 0 {
		name, args = fields[0], fields[1:]
	} else {
		switch runtime.GOOS {
		case "darwin":
			name = "open"
		case "windows":
			name, args = "rundll32", []string{"url.dll,FileProtocolHandler"}
		default:
			name = "xdg-open"
		}
	}
	if name == "" {
		return errors.New("no browser command")
	}
	cmd := exec.Command(name, append(args, url)...)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	// Reap the opener whenever it exits; some browsers never do.
	go cmd.Wait()
	return nil
}
