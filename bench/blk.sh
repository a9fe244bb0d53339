#!/usr/bin/env bash
# virtio-blk throughput: the blk test guest's bench mode (it times its own requests with the TSC) on the same raw
# image under platform-vmm and QEMU (-M pc, -device virtio-blk-pci,disable-legacy=on, aio=threads), with
# cache=none and cache=writeback: sequential 1 MiB and random 4 KiB reads and writes, at queue depth 1 and QD
# deep. Prints the median of REPS runs for each and the ratio ours/QEMU (above 1: we are faster).
#   REPS=3 SEQ_MIB=256 RAND_OPS=8192 QD=16 CACHES="none writeback" IMAGE_MIB=512 bench/blk.sh
# QEMU's pc machine is used because the guest finds its disk on ports 0xCF8/0xCFC (microvm's PCIe is ECAM only).
source "$(dirname "$0")/common.sh"
reps=${REPS:-3}
seq_mib=${SEQ_MIB:-256}
rand_ops=${RAND_OPS:-8192}
qd_deep=${QD:-16}
caches=${CACHES:-none writeback}
image_mib=${IMAGE_MIB:-512}
build_all

image=$(mktemp --tmpdir bench-blk-XXXXXX.img)
trap 'rm -f "$image"' EXIT
# Written, not sparse: reads of holes would never reach the disk.
dd if=/dev/zero of="$image" bs=1M count="$image_mib" conv=fsync status=none

# one WHO CACHE APPEND -> the guest's "bench ..." line
one() {
    local who=$1 cache=$2 append=$3
    if [ "$who" = ours ]; then
        timeout 600 "$vmm" --kernel "$guests/blk.elf" --memory 256M --disk "$image,cache=$cache" --append "$append" 2>/dev/null
    else
        timeout 600 "$qemu" -M pc -accel kvm -m 256 -nodefaults -display none -monitor none -serial stdio -no-reboot \
            -kernel "$guests/blk.elf" -append "$append" \
            -device virtio-blk-pci,drive=d0,disable-legacy=on \
            -drive "if=none,id=d0,file=$image,format=raw,cache=$cache,aio=threads" 2>/dev/null
    fi | tr -d '\r' | grep -m1 '^bench ' || echo "bench failed"
}

field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }

# case CACHE NAME BS QD OPSARG
run_case() {
    local cache=$1 name=$2 bs=$3 qd=$4 amount=$5
    local append="mode=bench bench=$name bs=$bs qd=$qd $amount"
    local ours_k=() qemu_k=() ours_i=() qemu_i=() r line
    for ((r = 0; r < reps; r++)); do
        for who in ours qemu; do
            line=$(one "$who" "$cache" "$append")
            [[ $line == "bench failed" ]] && { echo "bench: $who $append failed" >&2; line="kBps=0 iops=0"; }
            if [ "$who" = ours ]; then ours_k+=("$(field kBps <<<"$line")"); ours_i+=("$(field iops <<<"$line")")
            else qemu_k+=("$(field kBps <<<"$line")"); qemu_i+=("$(field iops <<<"$line")"); fi
        done
    done
    local ok qk oi qi
    ok=$(printf '%s\n' "${ours_k[@]}" | median); qk=$(printf '%s\n' "${qemu_k[@]}" | median)
    oi=$(printf '%s\n' "${ours_i[@]}" | median); qi=$(printf '%s\n' "${qemu_i[@]}" | median)
    if [ "$bs" -ge 1048576 ]; then
        printf '%-10s %-9s bs=%-4s qd=%-2s  ours %7s MB/s  qemu %7s MB/s  ratio %s\n' "cache=$cache" "$name" 1M "$qd" \
            $((ok / 1024)) $((qk / 1024)) "$(ratio "$ok" "$qk")"
    else
        printf '%-10s %-9s bs=%-4s qd=%-2s  ours %7s IOPS  qemu %7s IOPS  ratio %s\n' "cache=$cache" "$name" 4K "$qd" \
            "$oi" "$qi" "$(ratio "$oi" "$qi")"
    fi
}

echo "virtio-blk, $(nproc) CPUs, $(uname -r), KVM: $(test -d /sys/module/kvm_pvm && echo pvm || echo hardware), median of $reps"
for cache in $caches; do
    run_case "$cache" seqread 1048576 1 "mib=$seq_mib"
    run_case "$cache" seqwrite 1048576 1 "mib=$seq_mib"
    run_case "$cache" randread 4096 1 "ops=$rand_ops"
    run_case "$cache" randwrite 4096 1 "ops=$rand_ops"
    run_case "$cache" randread 4096 "$qd_deep" "ops=$rand_ops"
    run_case "$cache" randwrite 4096 "$qd_deep" "ops=$rand_ops"
done
