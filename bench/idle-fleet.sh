#!/usr/bin/env bash
# Many idle VMs on one host (issue 22: "1,000 idle VMs (64 MiB, display on) on this 24 GiB host: all running; host
# CPU <= 1 core in total; RSS per VMM reported"). COUNT platform-vmm processes (the NativeAOT publish the dashboard
# launches, jailed as the dashboard runs them when root: one uid each, display std with vnc.sock, no viewer) each boot
# the hello guest, which prints its verdict and halts (end=halt). Then, over a WINDOW of seconds after all are up:
#   - the CPU the VMM processes used (keepers and VMMs, /proc/PID/stat), in cores;
#   - the host's busy time from /proc/stat (kernel work for the VMs included), in cores, less what it was before;
#   - RSS per VMM (the jailed VMM; its keeper apart), mean and max, and MemAvailable's drop per VM.
# QEMU peer, same run: QEMU_COUNT microvms with -vnc (the issue's anchor; a thousand QEMUs at ~36 MiB each do not fit
# this host), per-VM figures to compare.
#   bench/idle-fleet.sh                       1,000 of ours, 100 QEMUs, 30 s window
#   COUNT=200 QEMU_COUNT=50 SECONDS_=20 bench/idle-fleet.sh
source "$(dirname "$0")/common.sh"
count=${COUNT:-1000}
qemu_count=${QEMU_COUNT:-100}
window=${SECONDS_:-30}
settle=${SETTLE:-10}
first_uid=${FIRST_UID:-310000}
build_all

work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# tree_ticks PID...: CPU ticks (user + system) of these processes and their children, dead threads included
# (/proc/PID/stat counts a thread's time into its process when it ends; summing live threads' schedstat would lose
# the time of a thread pool worker that retired inside the window).
tree_ticks() {
    local p all=()
    for p in "$@"; do all+=("$p" $(cat /proc/"$p"/task/*/children 2>/dev/null)); done
    for p in "${all[@]}"; do cat /proc/"$p"/stat 2>/dev/null; done |
        awk '{ sub(/^.*\) /, ""); s += $12 + $13 } END { printf "%.0f\n", s }'
}
# tree_rss_kib PID: "PROCESS CHILDREN": VmRSS of the process (for ours the jail's keeper) and of its children (the VMM).
tree_rss_kib() {
    local own children
    own=$(awk '/^VmRSS/ { print $2 }' /proc/"$1"/status 2>/dev/null)
    children=$(for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do awk '/^VmRSS/ { print $2 }' /proc/"$p"/status; done | awk '{ s += $1 } END { print s + 0 }')
    echo "${own:-0} $children"
}

# fleet NAME N: starts N VMs of that kind, waits for every verdict, then measures; prints one line of figures.
fleet() {
    local name=$1 n=$2 i dir started mem_before
    pids=()
    mem_before=$(mem_available_kib)
    started=${EPOCHREALTIME/[.,]/}
    for ((i = 0; i < n; i++)); do
        dir=$work/$name-$i
        mkdir -p "$dir"
        if [ "$name" = ours ]; then
            local jail=()
            [ "$(id -u)" = 0 ] && jail=(--jail "$((first_uid + i))")
            "$vmm" --kernel "$guests/hello.elf" --memory 64M --append end=halt --runtime-dir "$dir/run" "${jail[@]}" \
                >"$dir/log" 2>&1 </dev/null &
        else
            "$qemu" -M microvm -accel kvm -m 64 -nodefaults -no-user-config -vnc "unix:$dir/vnc.sock" -monitor none \
                -serial "file:$dir/log" -no-reboot -kernel "$guests/hello.elf" -append end=halt >/dev/null 2>&1 </dev/null &
        fi
        pids+=($!)
    done
    local up=0 waited=0
    while [ "$up" -lt "$n" ] && [ "$waited" -lt 1200 ]; do
        up=$( (grep -l "PLATFORM-TEST hello PASS" "$work/$name"-*/log 2>/dev/null || true) | wc -l)
        sleep 0.5; waited=$((waited + 1))
    done
    local all_up_ms=$(( (${EPOCHREALTIME/[.,]/} - started) / 1000 ))
    local alive=0 p
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
    sleep "$settle"
    local t0 busy0 t1 busy1 hz
    hz=$(getconf CLK_TCK)
    t0=$(tree_ticks "${pids[@]}"); busy0=$(busy_jiffies)
    sleep "$window"
    t1=$(tree_ticks "${pids[@]}"); busy1=$(busy_jiffies)
    # RSS: for ours the VMM (the keeper's child) and the keeper apart; for QEMU its one process. Shared pages (the
    # binary, libc) count in every process's RSS; MemAvailable's drop per VM is what each really costs the host.
    local rss
    rss=$(for p in "${pids[@]}"; do tree_rss_kib "$p"; done |
        awk -v ours="$([ "$name" = ours ] && echo 1 || echo 0)" '{ v = ours ? $2 : $1; s += v; k += $1; if (v > m) m = v }
            END { printf "%.1f %.1f %.1f", s / NR / 1024, m / 1024, ours ? k / NR / 1024 : 0 }')
    local mem_drop=$(( (mem_before - $(mem_available_kib)) / n ))
    read -r rss_mean rss_max keeper_mean <<<"$rss"
    printf '%s vms=%d running=%d all_up_ms=%d vmm_cores=%.3f host_cores=%.3f per_vm_pct=%.4f rss_mean_mib=%s rss_max_mib=%s keeper_rss_mib=%s mem_per_vm_mib=%.1f\n' \
        "$name" "$n" "$alive" "$all_up_ms" \
        "$(awk -v a="$t0" -v b="$t1" -v w="$window" -v hz="$hz" 'BEGIN { print (b - a) / hz / w }')" \
        "$(awk -v a="$busy0" -v b="$busy1" -v w="$window" -v hz="$hz" -v base="$baseline" 'BEGIN { print (b - a) / hz / w - base }')" \
        "$(awk -v a="$t0" -v b="$t1" -v w="$window" -v hz="$hz" -v n="$n" 'BEGIN { print (b - a) / hz / w / n * 100 }')" \
        "$rss_mean" "$rss_max" "$keeper_mean" "$(awk -v k="$mem_drop" 'BEGIN { print k / 1024 }')"
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    pids=()
    rm -rf "$work"/"$name"-*
}

# The host's own busy level with no VM, to take off the host figure (other processes' work).
b0=$(busy_jiffies); sleep 5; b1=$(busy_jiffies)
baseline=$(awk -v a="$b0" -v b="$b1" -v hz="$(getconf CLK_TCK)" 'BEGIN { print (b - a) / hz / 5 }')
echo "idle VMs (hello guest halted, 64 MiB, display on, no viewer); host busy before: $baseline cores"
fleet ours "$count"
fleet qemu "$qemu_count"
