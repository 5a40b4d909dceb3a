#!/usr/bin/env bash
# Runs the soak with churn (cmd/clerk-mcp TestSoakWithChurn) for a given
# time, default 5 minutes: 8 clerk-mcp servers, 2-second access tokens,
# random calls, random SIGKILLs including the refresher mid-refresh.
# CI runs the same test for 30 s as part of scripts/test.sh.
#   bash scripts/soak.sh 10m
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5m}
CLERK_MCP_SOAK="$duration" exec go test -count=1 -timeout 0 -run '^TestSoakWithChurn$' -v ./cmd/clerk-mcp
