#!/usr/bin/env bash
# Instructions and database round trips per request, repeatable on a busy machine: runs the
# release server under valgrind's callgrind, warms it up, zeroes the counters, sends N requests
# of one kind with curl (one keep-alive connection), and dumps the counters; then runs the same
# requests against the server without valgrind, with sqlx's statement log on (statements per
# request) and, on PostgreSQL, strace counting the server's writes to PostgreSQL's sockets
# (round trips per request, the connection check of the pool included).
#
#   bench/profile.sh target/release/disputes sqlite|postgres OUT_DIR [N]
#
# Prints one line per scenario: scenario, instructions per request, statements per request,
# PostgreSQL writes per request. Callgrind files are left in OUT_DIR for callgrind_annotate.
set -euo pipefail

BIN=$(realpath "$1")
STORE=$2
OUT=$(realpath -m "$3")
N=${4:-200}
# A free port and a schema of this run's own, so that two runs at once (two engineers on one
# machine) cannot send requests to each other's server.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
BASE=http://$ADDR
SCHEMA=disputes_profile_$$
rm -rf "$OUT"
mkdir -p "$OUT"

case $STORE in
sqlite) URL="sqlite://$OUT/profile.db" ;;
postgres)
    psql -q -h 127.0.0.1 -U postgres test -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE; CREATE SCHEMA $SCHEMA" >/dev/null
    URL="postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D$SCHEMA"
    ;;
*) echo "store: sqlite or postgres" >&2; exit 2 ;;
esac

"$BIN" migrate --database-url "$URL" >/dev/null
"$BIN" tenant create prof --database-url "$URL" >/dev/null
KEY=$("$BIN" key create --tenant prof --role advertiser --database-url "$URL")
AUTH="Authorization: Bearer $KEY"

body() {
    printf '{"disputedPeriod":{"start":"2026-10-01T00:00:00Z","end":"2026-10-08T00:00:00Z"},"affectedSurface":{"campaignId":"%s","screenIds":["scr_amsterdam_01","scr_rotterdam_07"],"substrateId":"sub_dooh_nl"},"claimedShortfall":{"unit":"impressions","amount":"12500"},"openedBy":"dev_adv_42","evidenceBundle":{"proofPackIds":["pp_2026_10_a"],"meteringSnapshotIds":["ms_2026_10_08"],"settlementApplicationIds":[],"attachmentRefs":["att_screenshot_1"],"auditorReportRef":"audit_2026_q4"}}' "$1"
}

wait_up() {
    for _ in $(seq 1 600); do
        curl -s -o /dev/null "$BASE/healthz" && return 0
        sleep 0.5
    done
    echo "server did not come up" >&2
    exit 1
}

# N requests of a scenario over one connection; `open` uses a fresh campaign each time.
# $1 scenario, $2 a tag that keeps campaigns unique across runs.
requests() {
    local args=()
    case $1 in
    open)
        for i in $(seq 1 "$N"); do
            args+=(-o /dev/null -w '%{http_code}\n' -X POST -H "$AUTH" -H 'content-type: application/json' --data "$(body "cmp_$2_$i")" "$BASE/v1/disputes" --next)
        done
        ;;
    get) for _ in $(seq 1 "$N"); do args+=(-o /dev/null -w '%{http_code}\n' -H "$AUTH" "$BASE/v1/disputes/$TEMPLATE" --next); done ;;
    list) for _ in $(seq 1 "$N"); do args+=(-o /dev/null -w '%{http_code}\n' -H "$AUTH" "$BASE/v1/disputes?status=open&limit=20" --next); done ;;
    esac
    unset 'args[${#args[@]}-1]'
    curl -s "${args[@]}" | sort | uniq -c >"$OUT/status-$1-$2.txt"
}

# 25 disputes to read, one of them the template the gets ask for.
seed() {
    for i in $(seq 1 25); do
        curl -s -o "$OUT/opened.json" -H "$AUTH" -H 'content-type: application/json' --data "$(body "cmp_seed_$i")" "$BASE/v1/disputes"
    done
    TEMPLATE=$(sed -E 's/.*"id":"([^"]+)".*/\1/' "$OUT/opened.json")
}

# 1. Instructions, under callgrind (instrumentation off until the counters are zeroed).
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.%p" \
    "$BIN" serve --listen "$ADDR" --database-url "$URL" --blob-dir "$OUT/blobs" --dispatch-poll-ms 3600000 --rate-limit-per-minute 0 \
    >"$OUT/valgrind.log" 2>&1 &
VG=$!
trap 'kill $VG 2>/dev/null || true; [ -n "${PLAIN:-}" ] && kill $PLAIN 2>/dev/null || true' EXIT
wait_up
seed
declare -A IR
for scenario in open get list; do
    requests "$scenario" "warm$scenario"
    callgrind_control --zero "$VG" >/dev/null
    requests "$scenario" "cg$scenario"
    callgrind_control --dump="$scenario" "$VG" >/dev/null
    file=$(ls -t "$OUT"/callgrind.* | head -1)
    mv "$file" "$OUT/callgrind.$scenario"
    IR[$scenario]=$(grep -E '^summary:|^totals:' "$OUT/callgrind.$scenario" | head -1 | awk '{print $2}')
done
kill $VG
wait $VG 2>/dev/null || true

# 2. Statements and PostgreSQL writes, without valgrind.
RUST_LOG=sqlx::query=debug "$BIN" serve --listen "$ADDR" --database-url "$URL" --blob-dir "$OUT/blobs" --dispatch-poll-ms 3600000 --rate-limit-per-minute 0 \
    >"$OUT/plain.log" 2>&1 &
PLAIN=$!
wait_up
for scenario in open get list; do requests "$scenario" "warmplain$scenario"; done
pg_fds() {
    # The server's sockets whose peer is port 5432.
    local inodes
    inodes=$(awk 'NR > 1 && $3 ~ /:1538$/ {print $10}' /proc/net/tcp /proc/net/tcp6 | sort -u)
    for fd in /proc/$PLAIN/fd/*; do
        local link
        link=$(readlink "$fd" 2>/dev/null || true)
        for inode in $inodes; do
            if [ "$link" = "socket:[$inode]" ]; then basename "$fd"; fi
        done
    done
    return 0
}
for scenario in open get list; do
    before=$(grep -c 'sqlx::query' "$OUT/plain.log" || true)
    writes=-
    if [ "$STORE" = postgres ]; then
        strace -f -qq -e trace=sendto,write,writev -p "$PLAIN" -o "$OUT/strace.$scenario" &
        ST=$!
        sleep 2
        requests "$scenario" "plain$scenario"
        sleep 1
        kill $ST
        wait $ST 2>/dev/null || true
        fds=$(pg_fds | paste -sd'|')
        writes=$(grep -cE "^[0-9]+ +(sendto|write|writev)\(($fds)," "$OUT/strace.$scenario" || true)
        writes=$(echo "scale=2; $writes / $N" | bc)
    else
        requests "$scenario" "plain$scenario"
    fi
    sleep 1
    after=$(grep -c 'sqlx::query' "$OUT/plain.log" || true)
    statements=$(echo "scale=2; ($after - $before) / $N" | bc)
    echo "$STORE $scenario: $(( ${IR[$scenario]} / N )) instructions/request, $statements statements/request, $writes PostgreSQL writes/request ($(cat "$OUT/status-$scenario-cg$scenario.txt" | tr '\n' ' '))"
done

# The schema was this run's alone.
if [ "$STORE" = postgres ]; then
    psql -q -h 127.0.0.1 -U postgres test -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null
fi
