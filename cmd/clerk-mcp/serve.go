package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/audit"
	"github.com/clerk-mcp/clerk-mcp/auth"
	"github.com/clerk-mcp/clerk-mcp/server"
	"github.com/clerk-mcp/clerk-mcp/tools"
)

func (c *cli) serve(ctx context.Context, args []string) int {
	fs := c.flags("serve")
	readOnly := fs.Bool("read-only", false, "refuse every api call but GET")
	reveal := fs.Bool("reveal-secrets", false, "show secret key values in api results")
	confirm := fs.String("confirm", string(tools.ConfirmProduction), "api calls that need the user's yes: production (writes to production instances, application deletes and key rotations), writes, or never")
	maxResult := fs.Int("max-result-chars", tools.DefaultMaxResultChars, "the most characters a tool result takes; larger answers are cut as JSON")
	level := fs.String("log-level", "info", "debug, info, warn or error (logs go to stderr)")
	logFile := fs.String("log-file", "", "also write logs to this file")
	noAgentLogin := fs.Bool("no-agent-login", false, "never start a browser login for a tool call that finds no session (answer not_logged_in without a login link)")
	c.profileFlag(fs)
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	c.hintIfTerminal()
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp serve: invalid --log-level %q (want debug, info, warn or error)\n", *level)
		return exitUsage
	}
	policy, err := tools.ParseConfirmPolicy(*confirm)
	if err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp serve: %v\n", err)
		return exitUsage
	}
	if *maxResult < tools.MinMaxResultChars {
		fmt.Fprintf(c.stderr, "clerk-mcp serve: --max-result-chars %d is too small (at least %d)\n", *maxResult, tools.MinMaxResultChars)
		return exitUsage
	}
	logOut := c.stderr
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintf(c.stderr, "clerk-mcp serve: open log file: %v\n", err)
			return exitFailure
		}
		defer f.Close()
		logOut = io.MultiWriter(c.stderr, f)
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: lvl}))
	e, err := c.envWithLogger(logger)
	if err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp: %v\n", err)
		return exitFailure
	}
	deps := e.deps()
	deps.ReadOnly, deps.RevealSecrets = *readOnly, *reveal
	deps.MaxResultChars = *maxResult
	deps.Confirm = policy
	deps.Audit = audit.New(e.cfg.ConfigDir)
	deps.Audit.Logger = logger
	opts := server.Options{Tools: tools.All(deps), Logger: logger, Version: buildVersion()}
	if !*noAgentLogin {
		// The login a tool call starts when it finds no session; it
		// never opens a browser by itself.
		opts.AgentLogin = auth.NewAgentLogin(e.client, e.source.Store(), auth.AgentLoginOptions{Logger: logger})
		defer opts.AgentLogin.Close()
	}
	srv := server.New(opts)
	banner := func() {
		logger.Info("serving MCP on stdio", "version", buildVersion(), "issuer", e.cfg.BaseURL,
			"profile", e.cfg.ProfileName(), "read_only", *readOnly, "confirm", string(policy), "store_mode", string(e.cfg.StoreMode))
	}
	serveErr := (&server.Stdio{Logger: logger, Ready: banner}).Serve(ctx, srv, c.stdin, c.stdout)
	// The calls are answered or cancelled, but a refresh they started may
	// still be between Clerk's answer, which spent the old refresh token,
	// and the write of the new session: exiting now would lose the session.
	// Each refresh is bounded by its own timeout; the bound here only
	// guards against a store that hangs.
	wctx, cancel := context.WithTimeout(context.Background(), 2*auth.DefaultRefreshTimeout)
	defer cancel()
	if err := e.source.WaitRefreshes(wctx); err != nil {
		logger.Error("exiting with a session refresh unfinished; the next start may need a new login", "error", err)
	}
	if serveErr != nil {
		logger.Error("stdio server stopped", "error", serveErr)
		return exitFailure
	}
	return exitOK
}

func (c *cli) doctor(ctx context.Context, args []string) int {
	fs := c.flags("doctor")
	asJSON := fs.Bool("json", false, "print JSON")
	c.profileFlag(fs)
	e, code, ok := c.parseEnv(fs, args, asJSON)
	if !ok {
		return code
	}
	report := tools.Doctor(ctx, e.deps())
	if *asJSON {
		c.printJSON(report)
	} else {
		marks := map[string]string{tools.StatusPass: "ok  ", tools.StatusWarn: "warn", tools.StatusFail: "FAIL"}
		for _, ch := range report.Checks {
			fmt.Fprintf(c.stdout, "[%s] %-16s %s\n", marks[ch.Status], ch.Name, ch.Message)
			if ch.Remedy != "" && ch.Status != tools.StatusPass {
				fmt.Fprintf(c.stdout, "       %s %s\n", strings.Repeat(" ", 16), "-> "+ch.Remedy)
			}
		}
	}
	if !report.OK {
		return exitFailure
	}
	return exitOK
}
