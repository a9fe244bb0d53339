#!/usr/bin/env bash
# virtio-net throughput over a TAP: frames per second and bytes per second, guest → host and host → guest, with
# 60-byte and 1514-byte Ethernet frames, under platform-vmm and under QEMU (-M pc, virtio-net-pci,disable-legacy=on,
# -netdev tap,vhost=off) on the same TAP, in a network namespace this script makes and deletes. Prints the median of
# REPS boots for each and the ratio ours/QEMU (above 1: we are faster).
#   REPS=3 WINDOW=5 WARMUP=1 bench/net.sh      (needs root: a namespace, a TAP, an AF_PACKET socket)
# LOGS=dir keeps each boot's console (and the VMM's stderr) there. BASELINE=path/to/another/platform-vmm also runs that
# build in every repetition (a "base" line under each case), so a change is measured against it in the same sitting.
# The netbench test guest does almost nothing per frame (its queues are set up once and given back with one store of
# the available index; EVENT_IDX, polled, no interrupts), so the VMM's own path is what is measured:
# - guest → host: the guest floods its transmit queue with one frame; counted as the TAP's rx_packets/rx_bytes (what
#   the VMM wrote to it), over WINDOW seconds after WARMUP.
# - host → guest: bench/net-blast.c sends frames to the guest's MAC on the TAP (AF_PACKET, sendmmsg, noqueue qdisc,
#   backing off 20 us when the TAP's queue is full); counted as the TAP's tx_packets/tx_bytes (what the VMM read: both
#   VMMs stop reading while the guest has no buffer, so a frame read is a frame delivered). How often the sender found
#   the TAP full is printed too: rarely means the VMM kept up and the sender (sharing the few cores) set the rate.
# Also the CPU time of each VMM's threads other than its vCPUs per frame: what the network costs it, which the busy
# shared host disturbs less than the rates. VERBOSE=1 prints every run's frames/s.
# One boot per VMM and repetition serves all four cases: the host switches the guest's mode with a byte on its serial
# input. Both boot the same PVH kernel; QEMU's is slower to boot (SeaBIOS), which is not measured.
source "$(dirname "$0")/common.sh"
reps=${REPS:-3}
window=${WINDOW:-5}
warmup=${WARMUP:-1}
baseline=${BASELINE:-}
mac=52:54:00:12:34:56
tap=tapb
build_all

[ "$(id -u)" = 0 ] || { echo "bench: net.sh needs root (a network namespace and a TAP)" >&2; exit 1; }
work=$(mktemp -d --tmpdir bench-net-XXXXXX)
blast=$work/net-blast
gcc -O2 -Wall -o "$blast" "$repo/bench/net-blast.c"
ns=pnetbench$$
vmm_pid=
cleanup() {
    set +e   # every step, whatever failed before
    [ -n "$vmm_pid" ] && kill -9 "$vmm_pid" 2>/dev/null
    exec 7>&- 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap '' PIPE   # a VMM that died makes the next command fail (and say so), not end the script
trap 'echo "bench: net.sh stopped at line $LINENO: $BASH_COMMAND" >&2' ERR
ip netns add "$ns"
inside() { ip netns exec "$ns" "$@"; }
inside ip tuntap add dev "$tap" mode tap vnet_hdr
inside sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"   # no router solicitations or DAD frames in the way
inside ip link set "$tap" up
inside tc qdisc replace dev "$tap" root noqueue           # a full TAP answers the sender at once (ENOBUFS)

# boot WHO: starts that VMM on the TAP with the guest in stand-still mode, serial input on fd 7; waits for READY.
boot() {
    local who=$1 log=$work/serial.log fifo=$work/serial.in
    current=$who
    rm -f "$fifo"; : >"$log"; mkfifo "$fifo"
    local binary=$vmm; [ "$who" = base ] && binary=$baseline
    if [ "$who" != qemu ]; then
        # Not through inside(): $! must be the VMM itself (ip netns exec execs it) for io_ticks.
        ip netns exec "$ns" "$binary" --kernel "$guests/netbench.elf" --memory 64M --display none --net "tap=$tap,mac=$mac" \
            --append "mrg=1" <"$fifo" >"$log" 2>&1 &
    else
        ip netns exec "$ns" "$qemu" -M pc -accel kvm -m 64 -nodefaults -display none -monitor none -serial stdio -no-reboot \
            -kernel "$guests/netbench.elf" -append "mrg=1" \
            -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off" \
            -device "virtio-net-pci,netdev=n0,disable-legacy=on,mac=$mac" <"$fifo" >"$log" 2>&1 &
    fi
    vmm_pid=$!
    exec 7>"$fifo"
    wait_line READY 300 || { echo "bench: $who did not get the guest ready:" >&2; tail -5 "$log" >&2; return 1; }
}

# wait_line TEXT SECONDS: waits for a whole serial line TEXT.
wait_line() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        tr -d '\r' <"$work/serial.log" | grep -qx "$1" && return 0
        kill -0 "$vmm_pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# mode C: switches the guest to mode C and waits until it says so.
mode() {
    if ! kill -0 "$vmm_pid" 2>/dev/null || ! printf '%s' "$1" >&7 || ! wait_line "MODE $1" 60; then
        echo "bench: the guest did not take mode $1; its console ended:" >&2
        tail -5 "$work/serial.log" >&2
        return 1
    fi
}

stop() {
    printf q >&7 2>/dev/null || true
    sleep 0.5
    if [ -n "${LOGS:-}" ]; then mkdir -p "$LOGS"; cp "$work/serial.log" "$LOGS/$(date +%H%M%S)-$current.log"; fi
    kill -9 "$vmm_pid" 2>/dev/null || true   # the guest may have passed and ended it already
    wait "$vmm_pid" 2>/dev/null || true
    vmm_pid=
    exec 7>&-
}

# window PACKETS BYTES: counts the two TAP counters over $window seconds; prints "frames/s bytes/s". One shell in the
# namespace reads both counters with builtins at each end, so starting processes under load does not skew the times.
window() {
    local dir=/sys/class/net/$tap/statistics
    inside bash -c 'read p0 <"$1/$2"; read b0 <"$1/$3"; t0=${EPOCHREALTIME/[.,]/}; sleep "$4"
        read p1 <"$1/$2"; read b1 <"$1/$3"; t1=${EPOCHREALTIME/[.,]/}
        awk -v p=$((p1 - p0)) -v b=$((b1 - b0)) -v us=$((10#$t1 - 10#$t0)) "BEGIN { printf \"%d %d\\n\", p * 1e6 / us, b * 1e6 / us }"' \
        _ "$dir" "$1" "$2" "$window"
}

# io_ticks: CPU clock ticks of the VMM's threads other than its vCPUs ("vcpuN" here, "CPU N/KVM" in QEMU): the work
# it does for the network (and anything else, which here is nothing), while the vCPU spins polling in either VMM.
# A jailed platform-vmm (what root starts by default) is its keeper's child: the children's threads count too.
io_ticks() {
    local t comm stat total=0 c
    for t in /proc/"$vmm_pid"/task/* $(for c in $(cat /proc/"$vmm_pid"/task/*/children 2>/dev/null); do echo /proc/"$c"/task/*; done); do
        read -r comm <"$t/comm" 2>/dev/null || continue
        [[ $comm == vcpu* || $comm == */KVM ]] && continue
        stat=$(<"$t/stat") 2>/dev/null || continue
        stat=${stat##*) }
        read -r -a f <<<"$stat"
        total=$((total + f[11] + f[12]))   # utime and stime, the 14th and 15th fields
    done
    echo "$total"
}

# measure PACKETS BYTES: window plus the VMM's non-vCPU CPU over it; prints "frames/s bytes/s cpu-us/frame".
measure() {
    local c0 c1 r
    c0=$(io_ticks)
    r=$(window "$1" "$2") || return 1
    c1=$(io_ticks)
    awk -v r="$r" -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v w="$window" \
        'BEGIN { split(r, a, " "); f = a[1] * w; printf "%s %.2f\n", r, (f > 0 ? c * 1e6 / hz / f : 0) }'
}

declare -A pps bps cpu full
failed=0
# record CASE [FRAMES/S BYTES/S]: a case without figures failed (said why already) and is left out of the medians.
record() { if [ $# -eq 4 ]; then pps[$1]+="$2 "; bps[$1]+="$3 "; cpu[$1]+="$4 "; else failed=$((failed + 1)); fi; }

# one WHO: a boot, the four cases, the results recorded under "WHO/case".
one() {
    local who=$1 result
    boot "$who" || { for c in tx60 tx1514 rx60 rx1514; do record "$who/$c"; done; stop; return; }
    for size in 60 1514; do
        local c=t; [ "$size" = 1514 ] && c=T
        mode "$c" && sleep "$warmup" && result=$(measure rx_packets rx_bytes) || result=
        record "$who/tx$size" $result
    done
    mode s && mode r || { record "$who/rx60"; record "$who/rx1514"; stop; return; }
    for size in 60 1514; do
        inside "$blast" "$tap" "$size" "$(awk -v w="$window" -v u="$warmup" 'BEGIN { print w + u + 0.5 }')" >"$work/blast.out" &
        local sender=$!
        sleep "$warmup"
        result=$(measure tx_packets tx_bytes) || result=
        wait "$sender" || true
        record "$who/rx$size" $result
        full[$who/rx$size]+="$(awk -F'[= ]' '{ printf "%.1f", ($4 > 0 ? 100 * $6 / $4 : 0) }' "$work/blast.out") "
    done
    stop
}

echo "virtio-net over a TAP, $(nproc) CPUs, $(uname -r), KVM: $(test -d /sys/module/kvm_pvm && echo pvm || echo hardware), load $(cut -d' ' -f1 /proc/loadavg), median of $reps, ${window} s windows"
for ((r = 0; r < reps; r++)); do
    # Alternate who goes first, so neither always meets the host fresher.
    [ -z "$baseline" ] || one base
    if ((r % 2 == 0)); then one ours; one qemu; else one qemu; one ours; fi
done

median_of() { tr ' ' '\n' <<<"$1" | { grep . || true; } | sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
printf '%-21s %30s %30s %8s  %s\n' "" "ours" "qemu" "ratio" "VMM CPU per frame, us (ours / qemu)"
for c in tx60 tx1514 rx60 rx1514; do
    op=$(median_of "${pps[ours/$c]:-}"); qp=$(median_of "${pps[qemu/$c]:-}")
    ob=$(median_of "${bps[ours/$c]:-}"); qb=$(median_of "${bps[qemu/$c]:-}")
    oc=$(median_of "${cpu[ours/$c]:-}"); qc=$(median_of "${cpu[qemu/$c]:-}")
    direction="guest→host"; [[ $c == rx* ]] && direction="host→guest"
    printf '%-11s %4s B  %9.0f frames/s %7.2f MB/s %9.0f frames/s %7.2f MB/s  %6s  %5.2f / %5.2f\n' "$direction" "${c#[rt]x}" \
        "$op" "$(awk -v b="$ob" 'BEGIN { print b / 1e6 }')" "$qp" "$(awk -v b="$qb" 'BEGIN { print b / 1e6 }')" "$(ratio "$op" "$qp")" "$oc" "$qc"
    if [ -n "$baseline" ]; then
        bp=$(median_of "${pps[base/$c]:-}"); bc=$(median_of "${cpu[base/$c]:-}")
        printf '%-18s base %9.0f frames/s, ratio to QEMU %s, CPU per frame %5.2f us\n' "" "$bp" "$(ratio "$bp" "$qp")" "$bc"
    fi
    if [[ $c == rx* ]]; then
        printf '%-18s the TAP was full for %s%% of the sender'"'"'s batches under ours, %s%% under QEMU\n' "" \
            "$(median_of "${full[ours/$c]:-}")" "$(median_of "${full[qemu/$c]:-}")"
    fi
    [ -z "${VERBOSE:-}" ] || echo "    ours ${pps[ours/$c]:-}/ qemu ${pps[qemu/$c]:-}${baseline:+/ base ${pps[base/$c]:-}}"
done
[ "$failed" = 0 ] || echo "($failed cases failed and are left out; see above)"
