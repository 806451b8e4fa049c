#!/usr/bin/env bash
# A PostgreSQL server for the hub tests (issue 18), before `make test` / CI.
#
# Usage (the only output on stdout is `export ...` lines, so the caller's shell takes them):
#
#     eval "$(bash tools/test_postgres.sh)"
#
# - A server already answers on 127.0.0.1:5432 as user postgres (the project's machines start one
#   before each session and CI run), or TMS_TEST_PG is set: does nothing, prints nothing.
# - Else starts a throwaway cluster (initdb in a temp folder, trust auth, 127.0.0.1 only) on 5432 if
#   that port is free, else on a free port, and prints `export TMS_TEST_PG=...` (and TMS_BENCH_PG)
#   for it. The cluster is left running for the rest of the run (a later run finds it and does
#   nothing); the line on stderr says how to stop it.
# - No server binaries: as root, installs Debian's postgresql package with apt-get, then as above.
#   If that is impossible, one loud line on stderr says the hub tests will be skipped (they skip
#   themselves, saying so), and the script still exits 0.
#
# TMS_TEST_PG_PORT (default 5432) is the port looked at and preferred; tests of this script use it.
set -uo pipefail

PORT="${TMS_TEST_PG_PORT:-5432}"
say() { echo "test_postgres: $*" >&2; }
loud() { echo "test_postgres: !!!!!!!! $* !!!!!!!!" >&2; }

answers() {  # answers PORT: a PostgreSQL server there lets user postgres in without a password
    local port="$1"
    if command -v psql >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=5 psql -w -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
            -c 'SELECT 1' >/dev/null 2>&1
    elif command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h 127.0.0.1 -p "$port" -t 5
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

listening() {  # listening PORT: anything accepts TCP connections there
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

bin_dir() {  # the newest Debian server binaries, else initdb on PATH
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n | tail -n 1)"
    if [ -n "$found" ] && [ -x "$found/initdb" ]; then
        echo "$found"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

if [ -n "${TMS_TEST_PG:-}" ]; then
    say "TMS_TEST_PG is set; the hub tests use that server."
    exit 0
fi
if answers "$PORT"; then
    say "PostgreSQL answers on 127.0.0.1:$PORT; nothing to start."
    exit 0
fi

BIN="$(bin_dir)"
if [ -z "$BIN" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "no PostgreSQL server binaries; installing Debian's postgresql package."
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -qq && apt-get install -y -qq postgresql; } >&2
        BIN="$(bin_dir)"
        # The package may have started its own cluster on 5432; if it lets us in, that one serves.
        if answers "$PORT"; then
            say "Debian's PostgreSQL answers on 127.0.0.1:$PORT."
            exit 0
        fi
    fi
fi
if [ -z "$BIN" ]; then
    loud "HUB TESTS WILL BE SKIPPED: no PostgreSQL server on 127.0.0.1:$PORT and none can be started here (no initdb; install Debian's postgresql package, or set TMS_TEST_PG)"
    exit 0
fi

AS=()
if [ "$(id -u)" = 0 ]; then  # initdb refuses to run as root: the server runs as the postgres user
    if ! id postgres >/dev/null 2>&1; then
        loud "HUB TESTS WILL BE SKIPPED: running as root and there is no 'postgres' user to run the server as"
        exit 0
    fi
    AS=(runuser -u postgres --)
fi

if listening "$PORT"; then  # something else holds the port: a free one instead
    PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi
DIR="$(mktemp -d /tmp/tms-test-pg.XXXXXX)"
[ "${#AS[@]}" -gt 0 ] && chown postgres: "$DIR"
LOG="$DIR/server.log"
if ! (cd "$DIR" && "${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C \
        --no-sync >"$LOG.initdb" 2>&1); then
    loud "HUB TESTS WILL BE SKIPPED: initdb failed ($(tail -n 1 "$LOG.initdb"))"
    exit 0
fi
if ! (cd "$DIR" && "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$LOG" -w -t 60 \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR -c fsync=off" \
        start >/dev/null 2>&1); then
    loud "HUB TESTS WILL BE SKIPPED: the throwaway PostgreSQL did not start ($(tail -n 1 "$LOG"))"
    exit 0
fi
say "started a throwaway PostgreSQL for the tests on 127.0.0.1:$PORT in $DIR" \
    "(stop it: ${AS[*]} $BIN/pg_ctl -D $DIR/data -m fast stop)"
if [ "$PORT" != 5432 ]; then
    echo "export TMS_TEST_PG=postgresql://postgres@127.0.0.1:$PORT/postgres"
    echo "export TMS_BENCH_PG=postgresql://postgres@127.0.0.1:$PORT/postgres"
fi
exit 0
