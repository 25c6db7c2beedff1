#!/usr/bin/env bash
# Rebuilds the vendored GraphiQL files in crates/ledger-server/assets/graphiql/.
#
# Needs Node.js (>= 18) with npm and access to the npm registry. The output is
# committed, so building contact-ledger itself needs neither Node nor network.
#
# Only prebuilt files shipped inside the npm packages are copied; nothing is
# bundled or transpiled. The hand-written files in the assets directory
# (index.html, init.js, page.css, favicon.svg) are not touched.
#
# To upgrade: edit the exact versions in package.json, run
# `npm install --package-lock-only --ignore-scripts`, then this script, then
# `python3 smoke_test.py`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../../crates/ledger-server/assets/graphiql"
cd "$here"

npm ci --ignore-scripts --no-audit --no-fund

nm="$here/node_modules"
mkdir -p "$out"

install -m 0644 "$nm/react/umd/react.production.min.js"         "$out/react.production.min.js"
install -m 0644 "$nm/react-dom/umd/react-dom.production.min.js" "$out/react-dom.production.min.js"
install -m 0644 "$nm/graphiql/graphiql.min.css"                 "$out/graphiql.min.css"
# Drop the source-map comment: the map is not shipped, and browsers with
# devtools open would request it (a 404 in the server log).
sed '/^\/\/# sourceMappingURL=/d' "$nm/graphiql/graphiql.min.js" > "$out/graphiql.min.js"
chmod 0644 "$out/graphiql.min.js"

node "$here/licenses.mjs" > "$out/LICENSES.md"

# Sanity checks on what was copied.
grep -q 'c.version="18.3.1"' "$out/react.production.min.js"
grep -q 'GraphiQL=t(e.React,e.ReactDOM)' "$out/graphiql.min.js"
grep -q '\.graphiql-container' "$out/graphiql.min.css"
if grep -Eq '@import|url\((["'\'']?)https?:' "$out/graphiql.min.css"; then
  echo "graphiql.min.css references remote resources" >&2
  exit 1
fi

echo "Wrote:"
( cd "$out" && ls -l --time-style=+ | awk 'NR>1 {printf "  %-30s %10d bytes\n", $NF, $5}' )
