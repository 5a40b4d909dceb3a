#!/usr/bin/env bash
# Exploratory fuzzing: each target explores new inputs for a while. Run it
# before stopping work on code a target covers; a crasher lands in the
# package's testdata/fuzz, where plain `go test` (and so CI) replays it for
# good. CI never explores: a fresh finding must not fail an unrelated change.
#
#   bash scripts/fuzz.sh          # 60 s per target
#   bash scripts/fuzz.sh 5m       # longer
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-60s}
targets=(
  "FuzzNormalizePath ./tools"
  "FuzzStdioLine ./server"
  "FuzzSessionFile ./store"
  "FuzzTokenResponse ./auth"
  "FuzzJSONCEdit ./clients"
  "FuzzTOMLEdit ./clients"
  "FuzzClean ./internal/safetext"
  "FuzzCheckRequest ./tools/apispec"
)
failed=0
for t in "${targets[@]}"; do
  set -- $t
  echo "== $1 ($2, $dur)"
  # Minimization off: when -fuzztime ends mid-minimization Go reports the
  # interrupted minimization as a failure of its own.
  go test -run '^$' -fuzz "^$1\$" -fuzztime "$dur" -fuzzminimizetime 0s "$2" || failed=1
done
exit $failed
