#!/usr/bin/env bash
# The dashboard's memory under use, per GC configuration (issue 22: "its memory follows its live data"). For each
# configuration a fresh dashboard (the build ./platform run starts, its own data folder) is driven by
# bench/dashboard-load.cs: a user in Chromium with USERS tabs opening and closing the VM list, a VM's Summary, the
# Host page and the event log, beside API reads, with VMS VMs defined and RUNNING of them running the echo guest. The
# dashboard's RSS is sampled every 5 s; printed are its peak, its RSS when the load ends and 60 s later (idle),
# and the rounds of use done (throughput: a GC that saves memory by working more shows here).
#   bench/dashboard-memory.sh                                   5 minutes per configuration
#   MINUTES=60 VMS=200 RUNNING=20 USERS=3 bench/dashboard-memory.sh
# Configurations: server GC as .NET 10 sets it (DATAS on), server GC with DATAS off (the classic), workstation GC
# (concurrent), and workstation GC with GCConserveMemory=5 (what Web.csproj sets). Each is set through DOTNET_*
# variables, which win over the build's runtimeconfig.json. No QEMU peer: QEMU has no dashboard.
source "$(dirname "$0")/common.sh"
minutes=${MINUTES:-5}
vms=${VMS:-200}
running=${RUNNING:-20}
users=${USERS:-3}
only=${CONFIGS:-server server-nodatas workstation workstation-conserve}

make -s -C "$repo/tests/guests"
bash "$repo/scripts/publish-vmm.sh"
dotnet build "$repo/src/Web" -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build "$repo/bench/dashboard-load.cs" -o "$repo/artifacts/dashboard-load" -nologo -v quiet >/dev/null
driver=$repo/artifacts/dashboard-load/dashboard-load
web=$repo/src/Web/bin/Release/net10.0/Platform.Web.dll
kernel=$repo/tests/guests/build/echo.elf
[ -f "$kernel" ] || kernel=$(ls "$repo"/tests/guests/build/echo* | head -n 1)


# run CONFIG ENV...: one dashboard under load; prints the row.
run() {
    local name=$1; shift
    local data port log pid sampler peak_file
    data=$(mktemp -d); log=$data/dashboard.log; peak_file=$data/peak
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    env "$@" Platform__DataDirectory="$data" Platform__Admin__UserName=bench Platform__Admin__Password=bench-password-1234 \
        Platform__SeedSample=false ASPNETCORE_ENVIRONMENT=Production \
        dotnet "$web" --urls "http://127.0.0.1:$port" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
    echo 0 >"$peak_file"
    ( while kill -0 "$pid" 2>/dev/null; do
          r=$(rss_kib "$pid"); [ "$r" -gt "$(cat "$peak_file")" ] && echo "$r" >"$peak_file"; sleep 5
      done ) &
    sampler=$!
    local said
    said=$("$driver" "http://127.0.0.1:$port" bench bench-password-1234 "$kernel" "$minutes" "$vms" "$running" "$users" 2>"$data/driver.err") \
        || { echo "bench: the load driver failed for $name:" >&2; tail -n 20 "$data/driver.err" >&2; tail -n 20 "$log" >&2; }
    local at_end idle
    at_end=$(rss_kib "$pid")
    sleep 60
    idle=$(rss_kib "$pid")
    kill "$sampler" 2>/dev/null || true
    kill "$pid"; wait "$pid" 2>/dev/null || true
    printf '%-22s %10s %10s %10s   %s\n' "$name" "$(( $(cat "$peak_file") / 1024 ))" "$(( at_end / 1024 ))" "$(( idle / 1024 ))" "$said"
    rm -rf "$data"
}

echo "dashboard RSS, MiB, over $minutes min of use ($users tabs, $vms VMs, $running running)"
printf '%-22s %10s %10s %10s   %s\n' "GC" "peak" "at end" "idle 60 s" "load done"
for config in $only; do
    case $config in
        server) run server DOTNET_gcServer=1 DOTNET_GCConserveMemory=0 ;;
        server-nodatas) run server-nodatas DOTNET_gcServer=1 DOTNET_GCDynamicAdaptationMode=0 DOTNET_GCConserveMemory=0 ;;
        workstation) run workstation DOTNET_gcServer=0 DOTNET_gcConcurrent=1 DOTNET_GCConserveMemory=0 ;;
        workstation-conserve) run workstation-conserve DOTNET_gcServer=0 DOTNET_gcConcurrent=1 DOTNET_GCConserveMemory=5 ;;
        # The JIT's share: without dynamic PGO's instrumented tier, and without W^X (whose double mapping of every
        # code page, writable and executable, counts each page twice in RSS).
        conserve-nopgo) run conserve-nopgo DOTNET_gcServer=0 DOTNET_GCConserveMemory=5 DOTNET_TieredPGO=0 ;;
        conserve-nowx) run conserve-nowx DOTNET_gcServer=0 DOTNET_GCConserveMemory=5 DOTNET_EnableWriteXorExecute=0 ;;
        conserve-nopgo-nowx) run conserve-nopgo-nowx DOTNET_gcServer=0 DOTNET_GCConserveMemory=5 DOTNET_TieredPGO=0 DOTNET_EnableWriteXorExecute=0 ;;
        # The GC's gen0 budget (workstation: sized from the CPU's cache, tens of MB) cut to 8 MiB: more gen0 GCs, less
        # memory between them.
        conserve-gen0) run conserve-gen0 DOTNET_gcServer=0 DOTNET_GCConserveMemory=5 DOTNET_GCgen0size=0x800000 ;;
        # No tiering: each method compiled once, optimized, instead of a tier-0 body and later a tier-1 one.
        conserve-notiered) run conserve-notiered DOTNET_gcServer=0 DOTNET_GCConserveMemory=5 DOTNET_TieredCompilation=0 ;;
        *) echo "bench: unknown configuration $config" >&2; exit 1 ;;
    esac
done
