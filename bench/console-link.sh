#!/usr/bin/env bash
# The browser console over slow links (issue 20: "through the dashboard too"): noVNC in Debian's Chromium, through
# the dashboard's WebSocket bridge, on the fb guest's fill scene at 1024x768 (bench/vnc.sh's), with Chromium's own
# network throttling (DevTools' emulateNetworkConditions). Per link profile it prints the frames per second and bytes
# per second the VMM's VNC server sent (its query-stats counters), the bytes per second the page received over its
# WebSocket (payload and headers, from DevTools' frame events), the bridge's overhead (those two compared), and the
# lag: the guest is paused and the time the page still receives pictures is what was queued on the way. The
# dashboard is the build ./platform run starts, with a data folder of its own; the VMM is the NativeAOT publish.
#   bench/console-link.sh
#   SECONDS_=20 PROFILES="direct=0/0 mobile=150/1000" bench/console-link.sh
# No QEMU peer: QEMU has no browser console; bench/vnc.sh compares the VNC servers themselves over the same kinds of
# link. The driver is bench/console-link.cs.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
window=${SECONDS_:-15}
warmup=${WARMUP:-3}
profiles=${PROFILES:-"direct=0/0 rtt50=50/0 rtt50-2mbit=50/2000 rtt50-512k=50/512 rtt150-256k=150/256"}

make -s -C "$repo/tests/guests"
bash "$repo/scripts/publish-vmm.sh"
dotnet build "$repo/src/Web" -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build "$repo/bench/console-link.cs" -o "$repo/artifacts/console-link" -nologo -v quiet >/dev/null
driver=$repo/artifacts/console-link/console-link
web=$repo/src/Web/bin/Release/net10.0/Platform.Web.dll
kernel=$repo/tests/guests/build/fb.elf

data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
Platform__DataDirectory="$data" Platform__Admin__UserName=bench Platform__Admin__Password=bench-password-1234 \
    Platform__SeedSample=false ASPNETCORE_ENVIRONMENT=Production \
    dotnet "$web" --urls "http://127.0.0.1:$port" >"$data/dashboard.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 600); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
echo "noVNC in Chromium through the dashboard, fb fill scene 1024x768, $window s per profile"
printf '%-14s %8s %6s %7s %12s %16s %15s %12s %8s\n' profile "rtt ms" kbit fps "bytes/frame" "VNC bytes/s" "WS bytes/s" "bridge +%" "lag ms"
# shellcheck disable=SC2086
"$driver" "http://127.0.0.1:$port" bench bench-password-1234 "$kernel" "$data/run" "$window" "$warmup" $profiles 2>"$data/driver.err" |
    while read -r line; do
        printf '%-14s %8s %6s %7s %12s %16s %15s %12s %8s\n' "$(field profile "$line")" "$(field latency_ms "$line")" "$(field kbit "$line")" \
            "$(field fps "$line")" "$(field bytes_per_frame "$line")" "$(field vnc_bytes_per_second "$line")" \
            "$(field ws_bytes_per_second "$line")" "$(field bridge_overhead_pct "$line")" "$(field lag_ms "$line")"
    done || true
[ -s "$data/driver.err" ] && { echo "bench: the driver said:" >&2; grep -v "^---\|^   at " "$data/driver.err" | tail -n 30 >&2; tail -n 20 "$data/dashboard.log" >&2; }
exit 0
