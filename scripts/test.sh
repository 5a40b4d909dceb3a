#!/usr/bin/env bash
# Runs the whole test suite with the race detector. When D-Bus and
# gnome-keyring are installed, the suite runs inside a private session bus
# with an unlocked Secret Service, so the keyring tests use a real keyring;
# otherwise those tests skip. Either way the run ends with every skipped
# test and its reason (scripts/testreport), and exits with go test's code.
set -euo pipefail
cd "$(dirname "$0")/.."

tests='go test -race -count=1 -json ./...'
report() { go run ./scripts/testreport; }

status=0
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  # gnome-keyring keeps its keyrings under HOME; use a throwaway one.
  home=$(mktemp -d)
  trap 'rm -rf "$home"' EXIT
  env HOME="$home" XDG_DATA_HOME="$home/.local/share" GOPATH="$(go env GOPATH)" \
    GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)" CLERK_MCP_REQUIRE_KEYRING=1 \
    dbus-run-session -- sh -c "echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && $tests" \
    2> >(grep -v 'Failed to set fd limit' >&2) | report || status=$?
else
  echo "scripts/test.sh: dbus-run-session or gnome-keyring-daemon missing; keyring tests will skip" >&2
  $tests | report || status=$?
fi
exit "$status"
