#!/usr/bin/env bash
# A thousand idle VMs as a user gets them: through the dashboard (issue 22: "1,000 idle VMs (64 MiB, display on) on
# this 24 GiB host: all running; host CPU <= 1 core in total", "starting many ... without later starts slowing down").
# bench/idle-fleet.sh starts the VMMs itself; here the dashboard the README runs (the build ./platform run starts, as
# root: every VMM jailed, in its cgroup) defines COUNT echo-guest VMs (64 MiB, display on, the default) and starts
# them all through the API, START_PARALLEL at a time (bench/dashboard-load.cs). Printed:
#   - the starts: all of them in how long, each start's answer time (median, 90th percentile, the first and the last
#     hundred: later starts must not slow down);
#   - once all run and SETTLE seconds passed, over WINDOW seconds: the dashboard's CPU, the VMM processes' CPU (keepers
#     and jailed VMMs), the host's busy time less its level before the dashboard started, the dashboard's RSS, and
#     MemAvailable's drop per VM;
#   - then USERS browser tabs use the dashboard for MINUTES with every VM running: the VM list's navigation to
#     interactive (median), and the dashboard's peak RSS.
# No QEMU peer here: QEMU has no dashboard (bench/idle-fleet.sh runs QEMU's fleet beside ours).
#   bench/fleet-dashboard.sh                         1,000 VMs, 8 starts at a time, 30 s window, 1 minute of use
#   COUNT=200 START_PARALLEL=4 bench/fleet-dashboard.sh
source "$(dirname "$0")/common.sh"
count=${COUNT:-1000}
parallel=${START_PARALLEL:-8}
window=${WINDOW:-30}
settle=${SETTLE:-10}
minutes=${MINUTES:-1}
users=${USERS:-1}

make -s -C "$repo/tests/guests"
bash "$repo/scripts/publish-vmm.sh"
dotnet build "$repo/src/Web" -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build "$repo/bench/dashboard-load.cs" -o "$repo/artifacts/dashboard-load" -nologo -v quiet >/dev/null
driver=$repo/artifacts/dashboard-load/dashboard-load
web=$repo/src/Web/bin/Release/net10.0/Platform.Web.dll
kernel=$repo/tests/guests/build/echo.elf

hz=$(getconf CLK_TCK)
# The VMM processes of this run (keepers and jailed VMMs: both carry the run's data folder in their command line).
vmm_pids() { pgrep -f "platform-vmm --config $data/" || true; }
# ticks PID...: user + system CPU ticks of these processes (each counts its threads, dead ones included).
ticks() { for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done | awk '{ sub(/^.*\) /, ""); s += $12 + $13 } END { printf "%.0f\n", s }'; }
cores() { awk -v a="$1" -v b="$2" -v w="$window" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz / w }'; }

data=$(mktemp -d)
dashboard=
cleanup() {
    rm -f "$data/hold"
    [ -n "$dashboard" ] && kill "$dashboard" 2>/dev/null
    wait 2>/dev/null || true
    pkill -9 -f "platform-vmm --config $data/" 2>/dev/null || true
    rm -rf "$data"
}
trap cleanup EXIT

b0=$(busy_jiffies); sleep 5; b1=$(busy_jiffies)
baseline=$(awk -v a="$b0" -v b="$b1" -v hz="$hz" 'BEGIN { print (b - a) / hz / 5 }')
mem_before=$(mem_available_kib)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
Platform__DataDirectory="$data" Platform__Admin__UserName=bench Platform__Admin__Password=bench-password-1234 \
    Platform__SeedSample=false ASPNETCORE_ENVIRONMENT=Production \
    dotnet "$web" --urls "http://127.0.0.1:$port" >"$data/dashboard.log" 2>&1 &
dashboard=$!
for _ in $(seq 600); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

echo 0 >"$data/peak"
( while kill -0 "$dashboard" 2>/dev/null; do
      r=$(rss_kib "$dashboard"); [ "$r" -gt "$(cat "$data/peak")" ] && echo "$r" >"$data/peak"; sleep 2
  done ) &

LOAD_HOLD_FILE=$data/hold LOAD_DISPLAY=1 START_PARALLEL=$parallel \
    "$driver" "http://127.0.0.1:$port" bench bench-password-1234 "$kernel" "$minutes" "$count" "$count" "$users" \
    >"$data/driver.out" 2>"$data/driver.err" &
driver_pid=$!
for _ in $(seq 3600); do [ -s "$data/hold" ] && break; kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.5; done
if [ ! -s "$data/hold" ]; then
    echo "bench: the starts did not finish:" >&2; tail -n 20 "$data/driver.err" >&2; tail -n 20 "$data/dashboard.log" >&2; exit 1
fi
started=$(cat "$data/hold")
running=$(ls "$data/run"/*/vmm.pid 2>/dev/null | wc -l)

sleep "$settle"
mapfile -t vmms < <(vmm_pids)
d0=$(ticks "$dashboard"); v0=$(ticks "${vmms[@]}"); h0=$(busy_jiffies)
sleep "$window"
d1=$(ticks "$dashboard"); v1=$(ticks "${vmms[@]}"); h1=$(busy_jiffies)
idle_rss=$(( $(rss_kib "$dashboard") / 1024 ))
mem_per_vm=$(awk -v a="$mem_before" -v b="$(mem_available_kib)" -v n="$count" 'BEGIN { printf "%.1f", (a - b) / n / 1024 }')
host=$(awk -v a="$h0" -v b="$h1" -v w="$window" -v hz="$hz" -v base="$baseline" 'BEGIN { printf "%.3f", (b - a) / hz / w - base }')

rm -f "$data/hold" # the driver goes on: browser tabs on the dashboard with every VM running, then the stops
if ! wait "$driver_pid"; then
    echo "bench: the load driver failed:" >&2; tail -n 20 "$data/driver.err" >&2
    kill -0 "$dashboard" 2>/dev/null || echo "bench: the dashboard is gone; its log ends:" >&2
    grep -E "fail|crit|Unhandled|Exception" "$data/dashboard.log" | tail -n 30 >&2
    tail -n 30 "$data/dashboard.log" >&2
fi
used=$(cat "$data/driver.out")

echo "$count VMs through the dashboard (echo guest, 64 MiB, display on, jailed), $parallel starts at a time; host busy before: $baseline cores"
echo "starts: $started; VMs with a live VMM: $running (of $count; ${#vmms[@]} VMM processes, keepers and VMMs)"
echo "idle, ${window} s after ${settle} s: dashboard $(cores "$d0" "$d1") cores, VMMs $(cores "$v0" "$v1") cores, host $host cores (less its level before); dashboard RSS $idle_rss MiB; MemAvailable drop $mem_per_vm MiB per VM"
echo "use, $users tab(s) for $minutes min with all running: $used; dashboard peak RSS $(( $(cat "$data/peak") / 1024 )) MiB"
