#!/usr/bin/env bash
# Exit round trips per second: the ioloop (port 0x80 writes) and mmioloop (writes to an unclaimed MMIO address)
# guests, time from their START to DONE line, ours vs QEMU (microvm and pc) in the same run.
source "$(dirname "$0")/common.sh"
n=${N:-300000}
build_all

rate() { # name -- command...
    local name=$1; shift; shift
    local t start done
    t=$(run_marked "=START" "DONE n=" -- "$@")
    { read -r start; read -r done; } <<<"$t"
    awk -v n="$n" -v us=$((done - start)) 'BEGIN { printf "%.0f", n / (us / 1e6) }'
}

for guest in ioloop mmioloop; do
    ours=$(rate x -- "$vmm" --kernel "$guests/$guest.elf" --memory 64M --append "n=$n")
    micro=$(rate x -- "$qemu" -M microvm -accel kvm -m 64 -nodefaults -no-user-config -nographic -serial stdio \
        -kernel "$guests/$guest.elf" -append "n=$n")
    printf '%-9s exits/s: platform-vmm %s, qemu microvm %s (ratio %s)\n' "$guest" "$ours" "$micro" "$(ratio "$ours" "$micro")"
done
