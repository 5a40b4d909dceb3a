#!/usr/bin/env bash
# Builds clerk-mcp and the floor server, then measures both in one run
# (cold start, whoami latency, peak RSS, whoami --json, binary size) and
# prints a table; then the refresh storm (1/4/16/64 processes) and the
# session core's Go benchmarks. Every figure has its same-run baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/clerk-mcp" ./cmd/clerk-mcp
go build -o "$out/floor" ./scripts/bench/floor
go run ./scripts/bench/mcpbench -clerk-mcp "$out/clerk-mcp" -floor "$out/floor" "$@"
echo
go run ./scripts/bench/storm
echo
go test -run '^$' -bench 'Token$' ./auth | grep -E '^Benchmark'
go test -run '^$' -bench 'Refresh' -benchtime=2000x ./auth | grep -E '^Benchmark'
go test -run '^$' -bench . ./tools/catalog | grep -E '^Benchmark'
