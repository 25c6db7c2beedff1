#!/usr/bin/env bash
# Fuzzes the GraphQL API of a real `contact-ledger serve` with schemathesis (GraphQL mode, from
# PyPI, pinned in tools/requirements.txt): every query and mutation of the committed SDL, with
# generated arguments, as the admin (who may use every field). Fails on any 5xx answer or if
# the server dies. `make test` runs a short pass, `make fuzz` a long one.
#
#   tools/fuzz_api.sh BINARY MAX_EXAMPLES [MAX_SECONDS]
set -euo pipefail
binary=${1:?the contact-ledger binary}
examples=${2:?examples per operation}
seconds=${3:-}
cd "$(dirname "$0")/.."

if ! command -v schemathesis >/dev/null 2>&1; then
	echo "schemathesis is missing: run 'make test-tools' (pip install -r tools/requirements.txt)" >&2
	exit 1
fi
# GET a path of the server; true on a 2xx answer (Python, so no curl is needed).
http_ok() {
	python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "http://$address$1" 2>/dev/null
}
scratch=$(mktemp -d)
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
	rm -rf "$scratch"
}
trap cleanup EXIT

# A throw-away master key for the throw-away ledger (the key wraps its data keys).
LEDGER_MASTER_KEY=$("$binary" master-key new)
export LEDGER_MASTER_KEY
# A small seeded book, so that lookups and mutations meet real customers, cases and policies.
"$binary" seed --data "$scratch/data" --customers 30 >/dev/null
"$binary" serve --data "$scratch/data" --listen 127.0.0.1:0 >"$scratch/serve.out" 2>"$scratch/serve.err" &
server_pid=$!
for _ in $(seq 1 300); do
	address=$(sed -n 's|.* on http://\([^/]*\)/.*|\1|p' "$scratch/serve.out" | head -n 1)
	[ -n "$address" ] && break
	sleep 0.1
done
[ -n "${address:-}" ] || { echo "serve did not start:" >&2; cat "$scratch/serve.err" >&2; exit 1; }
for _ in $(seq 1 300); do
	http_ok /readyz && break
	sleep 0.1
done
token=$(python3 - "$scratch/data/ledger.toml" <<'PY'
import sys, tomllib
config = tomllib.load(open(sys.argv[1], "rb"))
print(next(t["token"] for t in config["auth"]["tokens"] if t["role"] == "admin"))
PY
)

time_limit=()
if [ -n "$seconds" ]; then time_limit=(--max-time "$seconds"); fi
status=0
# Run from the scratch directory: schemathesis keeps replay files in ./.schemathesis.
root=$(pwd)
(cd "$scratch" && SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$root/tools${PYTHONPATH:+:$PYTHONPATH}" \
schemathesis run "$root/schemas/graphql/schema.graphql" --url "http://$address/graphql" \
	-H "Authorization: Bearer $token" --checks no_server_error \
	--max-examples "$examples" --seed "${FUZZ_API_SEED:-1}" --workers 2 \
	--no-color --request-timeout 30 --generation-database none "${time_limit[@]}") || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
	echo "the server died during the fuzz run:" >&2
	tail -n 50 "$scratch/serve.err" >&2
	exit 1
fi
http_ok /livez || { echo "the server stopped answering" >&2; exit 1; }
exit "$status"
