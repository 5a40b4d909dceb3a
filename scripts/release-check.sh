#!/usr/bin/env bash
# Builds a release the way a tag would, offline, and checks what a user gets:
#
#   1. GoReleaser (snapshot mode: nothing is published) builds all six
#      archives and the checksums file into dist/.
#   2. The checksums match, and the archive for this machine unpacks into a
#      binary whose `version` and `version --json` report the snapshot
#      version and this commit, next to the README and licence notice.
#   3. The MCP bundle dist/clerk-mcp_VERSION.mcpb is packed from the macOS
#      universal and Windows binaries and manifest.json (stamped with the
#      version), with the official mcpb tool, which validates it first.
#   4. dist/server.json is server.json stamped with the version and the
#      bundle's URL and SHA-256: what a release publishes to the MCP
#      Registry. It and the committed server.json must pass the registry's
#      JSON Schema, taken from the registry's Go module (the same file it
#      serves at the $schema URL).
#
# Needs git, Go, node and npm. Downloads only from the Go module proxy and
# the npm registry, every tool pinned. Usage: bash scripts/release-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# GOFLAGS from the environment are for this module's builds, not for
# running pinned tools (.ci/run does the same for staticcheck).
goreleaser() { GOFLAGS= go run github.com/goreleaser/goreleaser/v2@v2.15.1 "$@"; }
mcpb() { npx --yes @anthropic-ai/mcpb@2.1.2 "$@"; }
ajv() { npx --yes -p ajv-cli@5.0.0 -p ajv-formats@3.0.1 ajv "$@"; }
registry_module=github.com/modelcontextprotocol/registry@v1.5.0
schema_file=internal/validators/schemas/2025-12-11.json

fail() { echo "release-check: $*" >&2; exit 1; }

# GoReleaser reads the commit and date from git, but gives up on all of it
# (commit "none") when the repository has no remote. A fresh clone has one;
# a local checkout may not. Supply the project's URL through the
# environment rather than touch the repository's config.
if [ -z "$(git remote)" ]; then
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url \
    GIT_CONFIG_VALUE_0=https://github.com/clerk-mcp/clerk-mcp.git
fi

start=$SECONDS
echo "-- goreleaser release --snapshot --clean"
log=$(mktemp)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$log"' EXIT
if ! goreleaser release --snapshot --clean >"$log" 2>&1; then
  cat "$log" >&2
  fail "goreleaser failed"
fi
grep -E 'building snapshot|took:|succeeded' "$log" | sed 's/^ *//' || true

# artifact TYPE GOOS GOARCH prints the path GoReleaser recorded for it.
artifact() {
  node -e '
    const [type, goos, goarch] = process.argv.slice(1);
    const a = require("./dist/artifacts.json").find(a => a.type === type && a.goos === goos && a.goarch === goarch);
    if (!a) { console.error(`no ${type} for ${goos}/${goarch} in dist/artifacts.json`); process.exit(1); }
    console.log(a.path);' "$@"
}
version=$(node -p 'require("./dist/metadata.json").version')
head=$(git rev-parse HEAD)

echo "-- checksums"
(cd dist && sha256sum --quiet --strict -c "clerk-mcp_${version}_checksums.txt")
[ "$(wc -l <"dist/clerk-mcp_${version}_checksums.txt")" -eq 6 ] || fail "expected 6 archives in the checksums file"

echo "-- the $(go env GOOS)/$(go env GOARCH) archive"
archive=$(artifact Archive "$(go env GOOS)" "$(go env GOARCH)")
tar -xzf "$archive" -C "$tmp"
for f in clerk-mcp README.md LICENSE-clerk-openapi-specs; do
  [ -f "$tmp/$f" ] || fail "$archive lacks $f"
done
out=$("$tmp/clerk-mcp" version)
echo "$out" | sed 's/^/   /'
[ "$(echo "$out" | head -n1)" = "clerk-mcp $version" ] || fail "version should print clerk-mcp $version"
echo "$out" | grep -qx "commit: $head" || fail "version should print commit $head"
echo "$out" | grep -q '^date:   [0-9]' || fail "version should print the commit date"
"$tmp/clerk-mcp" version --json | node -e '
  const b = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const [version, commit] = process.argv.slice(1);
  if (b.version !== version || b.commit !== commit || !Date.parse(b.date)) {
    console.error("version --json:", b); process.exit(1);
  }' "$version" "$head"

echo "-- MCP bundle"
mcpb validate manifest.json
stage=dist/mcpb
mkdir -p "$stage/server"
cp "$(artifact Binary darwin all)" "$stage/server/clerk-mcp"
cp "$(artifact Binary windows amd64)" "$stage/server/clerk-mcp.exe"
cp README.md "$stage/"
cp tools/catalog/openapi/LICENSE "$stage/LICENSE-clerk-openapi-specs"
node -e '
  const fs = require("fs");
  const m = JSON.parse(fs.readFileSync("manifest.json", "utf8"));
  m.version = process.argv[1];
  fs.writeFileSync(process.argv[2], JSON.stringify(m, null, 2) + "\n");' "$version" "$stage/manifest.json"
bundle=dist/clerk-mcp_${version}.mcpb
mcpb pack "$stage" "$bundle" >"$log" 2>&1 || { cat "$log" >&2; fail "mcpb pack failed"; }
mcpb info "$bundle" | sed 's/^/   /'

echo "-- server.json against the MCP Registry schema"
moddir=$(cd "$tmp" && GOFLAGS= go mod download -json "$registry_module" | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).Dir')
node -e '
  const fs = require("fs");
  const [version, bundle, sha] = process.argv.slice(1);
  const s = JSON.parse(fs.readFileSync("server.json", "utf8"));
  s.version = version;
  for (const p of s.packages) {
    if (p.registryType !== "mcpb") continue;
    p.version = version;
    p.identifier = `https://github.com/clerk-mcp/clerk-mcp/releases/download/v${version}/${bundle}`;
    p.fileSha256 = sha;
  }
  fs.writeFileSync("dist/server.json", JSON.stringify(s, null, 2) + "\n");' \
  "$version" "$(basename "$bundle")" "$(sha256sum "$bundle" | cut -d' ' -f1)"
# --strict=false: the schema uses "example", which strict Ajv rejects.
ajv validate --spec=draft7 --strict=false -c ajv-formats --all-errors --errors=text \
  -s "$moddir/$schema_file" -d server.json -d dist/server.json

echo "-- release check passed in $((SECONDS - start))s: version $version, $(ls dist/*.tar.gz dist/*.zip | wc -l) archives, $bundle"
