package auth_test

import (
	"os"
	"testing"
)

// TestMain lets the test binary play other programs: a browser for the
// login tests and a clerk-mcp process for the multi-process tests.
func TestMain(m *testing.M) {
	switch os.Getenv("CLERK_MCP_TEST_ROLE") {
	case "browser":
		os.Exit(runBrowser(os.Args[len(os.Args)-1]))
	case "token-child":
		os.Exit(runTokenChild())
	}
	os.Exit(m.Run())
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
