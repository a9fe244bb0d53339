#!/usr/bin/env bash
# Start-up and memory overhead: process start → first serial line of the hello guest, median of RUNS runs,
# ours vs QEMU microvm (the fastest QEMU machine for a PVH kernel) in the same run; and peak RSS minus guest
# RAM while the echo guest waits for input.
source "$(dirname "$0")/common.sh"
runs=${RUNS:-10}
mem_mib=64
build_all

ours=() theirs=()
for _ in $(seq "$runs"); do
    t=$(run_marked "hello START" -- "$vmm" --kernel "$guests/hello.elf" --memory ${mem_mib}M)
    ours+=("${t%%$'\n'*}")
    t=$(run_marked "hello START" -- "$qemu" -M microvm -accel kvm -m $mem_mib -nodefaults -no-user-config \
        -nographic -serial stdio -kernel "$guests/hello.elf")
    theirs+=("${t%%$'\n'*}")
done
ours_ms=$(printf '%s\n' "${ours[@]}" | median)
theirs_ms=$(printf '%s\n' "${theirs[@]}" | median)

t=$(run_marked "READY" -- "$vmm" --kernel "$guests/echo.elf" --memory ${mem_mib}M)
our_rss=${t##*$'\n'}
t=$(run_marked "READY" -- "$qemu" -M microvm -accel kvm -m $mem_mib -nodefaults -no-user-config -nographic \
    -serial stdio -kernel "$guests/echo.elf")
their_rss=${t##*$'\n'}

printf 'start-up to first serial line (median of %d): platform-vmm %.1f ms, qemu microvm %.1f ms, ratio %s\n' \
    "$runs" "$(awk -v v="$ours_ms" 'BEGIN{print v/1000}')" "$(awk -v v="$theirs_ms" 'BEGIN{print v/1000}')" "$(ratio "$ours_ms" "$theirs_ms")"
printf 'peak RSS with a %d MiB guest: platform-vmm %d KiB, qemu microvm %d KiB, ratio %s\n' \
    "$mem_mib" "$our_rss" "$their_rss" "$(ratio "$our_rss" "$their_rss")"
echo "(RSS counts only guest pages touched; both guests touch the same few, so the difference is VMM overhead)"
