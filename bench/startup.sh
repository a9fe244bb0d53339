#!/usr/bin/env bash
# Start-up and memory overhead, ours vs QEMU microvm (the fastest QEMU machine for a PVH kernel), in the same run.
#
# Start-up: process start to the hello guest's first serial line ("hello START"), the median of RUNS runs (10), the
# VMMs alternating so all see the same host load. platform-vmm runs as a user would start it (the default
# display: std-vga, 16 MiB of video memory, the VNC server) — jailed when run as root, as the dashboard runs it —
# and again with --no-jail, so the jail's cost is the difference; QEMU with -nodefaults -nographic.
#
# Memory overhead: what the VMM itself keeps resident, the guest's RAM left out, as Firecracker states its own
# (under 5 MiB). The echo guest boots, prints READY and waits; then, for each VMM:
#   - /proc/PID/smaps: the Rss of the guest RAM, the anonymous mapping exactly as long as the guest's memory (both
#     VMMs map a 64 MiB guest's RAM as one such mapping; only the pages the guest touched are resident, here one
#     2 MiB transparent huge page each);
#   - /proc/PID/status, read just after: VmHWM (peak RSS) and VmRSS;
#   - overhead = VmHWM - guest RAM Rss. Everything else counts: the binary's and the shared libraries' resident
#     pages (file pages mapped by the process count in its RSS, shared or not), heaps, stacks, KVM's kvm_run pages.
# The median of MEM_RUNS runs (5) of each. VmRSS - guest RAM Rss (the overhead now rather than at the peak) is shown
# too.
source "$(dirname "$0")/common.sh"
runs=${RUNS:-10}
mem_runs=${MEM_RUNS:-5}
mem_mib=64
export RAM_KIB=$((mem_mib * 1024))
build_all

qemu_args=(-M microvm -accel kvm -m $mem_mib -nodefaults -no-user-config -nographic -serial stdio)

ours=() theirs=() unjailed=()
for _ in $(seq "$runs"); do
    t=$(run_marked "hello START" -- "$vmm" --kernel "$guests/hello.elf" --memory ${mem_mib}M)
    ours+=("${t%%$'\n'*}")
    t=$(run_marked "hello START" -- "$vmm" --kernel "$guests/hello.elf" --memory ${mem_mib}M --no-jail)
    unjailed+=("${t%%$'\n'*}")
    t=$(run_marked "hello START" -- "$qemu" "${qemu_args[@]}" -kernel "$guests/hello.elf")
    theirs+=("${t%%$'\n'*}")
done
ours_us=$(printf '%s\n' "${ours[@]}" | median)
theirs_us=$(printf '%s\n' "${theirs[@]}" | median)
unjailed_us=$(printf '%s\n' "${unjailed[@]}" | median)
jailed=$([ "$(id -u)" = 0 ] && echo "jailed" || echo "unjailed: not root")

# memory_runs NAME -- command...: prints "HWM RSS GUEST OVERHEAD NOW_OVERHEAD", each the median over mem_runs.
memory_runs() {
    shift 2
    local hwm=() rss=() guest=() over=() now=() t h r g
    for _ in $(seq "$mem_runs"); do
        t=$(run_marked "READY" -- "$@")
        read -r h r g <<<"${t##*$'\n'}"
        if [ "$g" -eq 0 ]; then
            echo "bench: no ${mem_mib} MiB anonymous mapping (guest RAM) found in $1's smaps" >&2
        fi
        hwm+=("$h") rss+=("$r") guest+=("$g") over+=($((h - g))) now+=($((r - g)))
    done
    echo "$(printf '%s\n' "${hwm[@]}" | median) $(printf '%s\n' "${rss[@]}" | median)" \
        "$(printf '%s\n' "${guest[@]}" | median) $(printf '%s\n' "${over[@]}" | median)" \
        "$(printf '%s\n' "${now[@]}" | median)"
}
read -r our_hwm our_rss our_guest our_over our_now < <(memory_runs ours -- "$vmm" --kernel "$guests/echo.elf" --memory ${mem_mib}M)
read -r their_hwm their_rss their_guest their_over their_now < <(memory_runs qemu -- "$qemu" "${qemu_args[@]}" -kernel "$guests/echo.elf")

ms() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }'; }
mib() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }'; }
printf 'start-up to first serial line (median of %d): platform-vmm (%s) %s ms, qemu microvm %s ms, ratio %s\n' \
    "$runs" "$jailed" "$(ms "$ours_us")" "$(ms "$theirs_us")" "$(ratio "$ours_us" "$theirs_us")"
printf 'the jail: platform-vmm --no-jail %s ms, jailed %s ms, jail costs %s ms\n' \
    "$(ms "$unjailed_us")" "$(ms "$ours_us")" "$(ms $((ours_us - unjailed_us)))"
printf 'memory with a %d MiB guest (median of %d), peak RSS - guest RAM resident = overhead:\n' "$mem_mib" "$mem_runs"
printf '  platform-vmm %6d KiB - %5d KiB = %6d KiB (%s MiB; now %s MiB)\n' \
    "$our_hwm" "$our_guest" "$our_over" "$(mib "$our_over")" "$(mib "$our_now")"
printf '  qemu microvm %6d KiB - %5d KiB = %6d KiB (%s MiB; now %s MiB)\n' \
    "$their_hwm" "$their_guest" "$their_over" "$(mib "$their_over")" "$(mib "$their_now")"
printf 'overhead ratio %s (Firecracker states under 5 MiB)\n' "$(ratio "$our_over" "$their_over")"
