#!/usr/bin/env bash
# `make bench` / `make bench-quick`: runs `ledger-bench run` beside a PostgreSQL.
#
# Installs what the harness needs from Debian's packages when missing (postgresql, wrk,
# strace). Uses the PostgreSQL at $BENCH_POSTGRES_URL, or one already answering on
# 127.0.0.1:$BENCH_PG_PORT; otherwise starts a throw-away one on that port with its own data
# directory under the bench work dir (as the `postgres` user when run as root, since initdb
# refuses root), and stops and deletes it on exit.
#
# usage: tools/bench/run.sh full|quick   (after `cargo build --release --bin contact-ledger --bin ledger-bench`)
set -euo pipefail

PROFILE=${1:?usage: run.sh full|quick}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=$(cd "$ROOT" && mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)
WORK=$TARGET/bench
PORT=${BENCH_PG_PORT:-54329}
mkdir -p "$WORK"

install() {
    echo "run.sh: installing $* (Debian packages)" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get install -y -q "$@" >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "$@" >/dev/null; }
}
command -v strace >/dev/null || install strace
command -v wrk >/dev/null || install wrk
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    install postgresql
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

PGDATA=""
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
stop_postgres() {
    if [ -n "$PGDATA" ] && [ -d "$PGDATA" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$PGDATA"
    fi
}
trap stop_postgres EXIT

if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
    echo "run.sh: PostgreSQL at \$BENCH_POSTGRES_URL" >&2
elif "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    echo "run.sh: using the PostgreSQL already answering on port $PORT" >&2
    BENCH_POSTGRES_URL="host=127.0.0.1 port=$PORT user=postgres"
else
    PGDATA=$WORK/postgres
    rm -rf "$PGDATA"
    mkdir -p "$PGDATA"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$PGDATA"; fi
    echo "run.sh: starting a throw-away PostgreSQL ($PG_BIN) on port $PORT in $PGDATA" >&2
    as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >"$WORK/initdb.log"
    as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w start \
        -o "-p $PORT -k $PGDATA -c listen_addresses=127.0.0.1 -c max_connections=200" >/dev/null
    BENCH_POSTGRES_URL="host=127.0.0.1 port=$PORT user=postgres"
fi
export BENCH_POSTGRES_URL

if [ "$PROFILE" = full ]; then
    OUTPUT=$ROOT/BENCHMARKS.md
else
    OUTPUT=$WORK/BENCHMARKS-$PROFILE.md
fi
cd "$ROOT"
"$TARGET/release/ledger-bench" run --profile "$PROFILE" --work "$WORK" \
    --server "$TARGET/release/contact-ledger" --misses crates/ledger-bench/MISSES.md \
    --output "$OUTPUT" ${BENCH_LEDGER_EVENTS:+--ledger-events "$BENCH_LEDGER_EVENTS"} \
    ${BENCH_SCALE_EVENTS:+--scale-events "$BENCH_SCALE_EVENTS"}
echo "run.sh: report written to $OUTPUT" >&2
