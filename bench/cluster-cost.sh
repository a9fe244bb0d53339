#!/usr/bin/env bash
# What the cluster costs the dashboard's start: the built dashboard (src/Web, Release) started N times (default 5)
# as a single host (no cluster: SQLite, no silo) and as one host of a cluster (a throw-away PostgreSQL like the tests':
# initdb in a temporary folder, a Unix socket only, run as the postgres user; an Orleans silo with ADO.NET membership
# on it). Per run: milliseconds from exec to "Platform dashboard:" (printed once Kestrel listens, after the database is
# migrated and, in a cluster, the silo has joined), RSS then (after a 2 s settle), and how many Orleans/Npgsql files
# the process has mapped. Medians are printed. BASELINE=path/to/Platform.Web.dll also measures another build's single
# host in the same run (main's, say). Each single-host run starts on an empty data folder, as a first start does.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
web=$repo/src/Web/bin/Release/net10.0/Platform.Web.dll
[ -f "$web" ] || { echo "bench: build first: dotnet build src/Web -c Release" >&2; exit 1; }
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pg_bin/postgres" ] || { echo "bench: PostgreSQL missing (apt-get install postgresql)" >&2; exit 1; }

work=$(mktemp -d /tmp/platform-cluster-cost.XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then chown postgres "$work"; as_pg=(setpriv --reuid postgres --regid postgres --init-groups --); fi
pg_pid=
cleanup() { [ -z "$pg_pid" ] || kill -INT "$pg_pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg" -U platform -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
"${as_pg[@]}" "$pg_bin/postgres" -D "$work/pg" -k "$work" -c listen_addresses= -c fsync=off >"$work/pg.log" 2>&1 &
pg_pid=$!
until "$pg_bin/psql" -h "$work" -U platform -d postgres -qAtc 'select 1' >/dev/null 2>&1; do sleep 0.1; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_once DLL [VAR=VALUE...]: prints "ms rss_kib mapped"
start_once() {
    local dll=$1; shift
    local data; data=$(mktemp -d "$work/data.XXXXXX")
    local fifo=$data/out; mkfifo "$fifo"
    local start=${EPOCHREALTIME/[.,]/}
    env Platform__DataDirectory="$data" Platform__Admin__UserName=admin Platform__Admin__Password=bench-password-long \
        "$@" dotnet "$dll" --urls "http://127.0.0.1:$(free_port)" </dev/null >"$fifo" 2>&1 &
    local pid=$! line now ms=timeout
    exec 9<"$fifo"
    while IFS= read -r -t 120 line <&9; do
        if [[ $line == *"Platform dashboard:"* ]]; then now=${EPOCHREALTIME/[.,]/}; ms=$(( (10#$now - 10#$start) / 1000 )); break; fi
    done
    sleep 2
    local rss mapped
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
    mapped=$({ grep -E 'Orleans|Npgsql' "/proc/$pid/maps" || true; } | awk '{ print $6 }' | sort -u | wc -l)
    kill -INT "$pid" 2>/dev/null || true
    cat <&9 >/dev/null &
    wait "$pid" 2>/dev/null || true
    exec 9<&-
    echo "$ms $rss $mapped"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

measure() {
    local label=$1; shift
    local results=()
    for i in $(seq "$runs"); do results+=("$("$@")"); done
    printf '%-28s start %6s ms   RSS %7s KiB   Orleans/Npgsql files mapped %s\n' "$label" \
        "$(printf '%s\n' "${results[@]}" | cut -d' ' -f1 | median)" \
        "$(printf '%s\n' "${results[@]}" | cut -d' ' -f2 | median)" \
        "$(printf '%s\n' "${results[@]}" | cut -d' ' -f3 | median)"
}

cluster_once() {
    local db=bench_$RANDOM$RANDOM
    "$pg_bin/psql" -h "$work" -U platform -d postgres -qAtc "create database $db" >/dev/null
    start_once "$web" Platform__Cluster__ConnectionString="Host=$work;Username=platform;Database=$db" \
        Platform__Cluster__HostName=bench Platform__Cluster__Address=127.0.0.1 \
        Platform__Cluster__SiloPort="$(free_port)" Platform__Cluster__GatewayPort="$(free_port)"
}

echo "bench: $runs runs each, medians; load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "${BASELINE:-}" ] || measure "baseline single host" start_once "$BASELINE"
measure "single host (no cluster)" start_once "$web"
measure "cluster host (silo + PG)" cluster_once
