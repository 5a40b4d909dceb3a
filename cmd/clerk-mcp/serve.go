package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/clerk-mcp/clerk-mcp/server"
	"github.com/clerk-mcp/clerk-mcp/tools"
)

func (c *cli) serve(ctx context.Context, args []string) int {
	fs := c.flags("serve")
	readOnly := fs.Bool("read-only", false, "refuse every api call but GET")
	reveal := fs.Bool("reveal-secrets", false, "show secret key values in api results")
	level := fs.String("log-level", "info", "debug, info, warn or error (logs go to stderr)")
	logFile := fs.String("log-file", "", "also write logs to this file")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(c.stderr, "clerk-mcp serve: invalid --log-level %q (want debug, info, warn or error)\n", *level)
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
	srv := server.New(server.Options{Tools: tools.All(deps), Logger: logger, Version: buildVersion()})
	logger.Info("serving MCP on stdio", "version", buildVersion(), "issuer", e.cfg.BaseURL,
		"read_only", *readOnly, "store_mode", string(e.cfg.StoreMode))
	if err := server.ServeStdio(ctx, srv, c.stdin, c.stdout, logger); err != nil && ctx.Err() == nil {
		logger.Error("stdio server stopped", "error", err)
		return exitFailure
	}
	return exitOK
}

func (c *cli) doctor(ctx context.Context, args []string) int {
	fs := c.flags("doctor")
	asJSON := fs.Bool("json", false, "print JSON")
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
