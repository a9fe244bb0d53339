#!/usr/bin/env bash
# virtio-blk throughput: the blk test guest's bench mode (it times its own requests with the TSC) on the same raw
# image under platform-vmm and QEMU (-M pc, -device virtio-blk-pci,disable-legacy=on, aio=threads), with
# cache=none and cache=writeback: sequential 1 MiB and random 4 KiB reads and writes, at queue depth 1 and QD
# deep. Prints the median of REPS runs for each and the ratio ours/QEMU (above 1: we are faster).
#   REPS=3 SEQ_MIB=256 RAND_OPS=8192 QD=16 CACHES="none writeback" IMAGE_MIB=512 bench/blk.sh
# BASELINE=path/to/another/platform-vmm also runs that build, interleaved with ours and QEMU's in every repetition,
# so a change is measured against its baseline in the same sitting on a noisy host ("base" column, base/QEMU).
# FORMATS="raw qcow2" (default raw): qcow2 rows use a 64 KiB-cluster image made by qemu-img with
# QCOW2_PREALLOC=full (default: every cluster allocated and written, so both measure the mapping on the in-place
# path), metadata (clusters allocated, data never written) or off (a fresh empty image before every run: writes
# measure allocation; reads of unallocated clusters never touch the disk). Ours gets format=qcow2, QEMU format=qcow2.
# QEMU's pc machine is used because the guest finds its disk on ports 0xCF8/0xCFC (microvm's PCIe is ECAM only).
source "$(dirname "$0")/common.sh"
reps=${REPS:-3}
seq_mib=${SEQ_MIB:-256}
rand_ops=${RAND_OPS:-8192}
qd_deep=${QD:-16}
caches=${CACHES:-none writeback}
image_mib=${IMAGE_MIB:-512}
formats=${FORMATS:-raw}
qcow2_prealloc=${QCOW2_PREALLOC:-full}
build_all

raw_image=$(mktemp --tmpdir bench-blk-XXXXXX.img)
qcow2_image=$(mktemp --tmpdir bench-blk-XXXXXX.qcow2)
trap 'rm -f "$raw_image" "$qcow2_image"' EXIT
# Written, not sparse: reads of holes would never reach the disk.
dd if=/dev/zero of="$raw_image" bs=1M count="$image_mib" conv=fsync status=none
make_qcow2() {
    rm -f "$qcow2_image"
    qemu-img create -q -f qcow2 -o "cluster_size=65536,preallocation=$qcow2_prealloc" "$qcow2_image" "${image_mib}M"
}
format=raw
image=$raw_image

baseline=${BASELINE:-}
whos="ours qemu"
[ -n "$baseline" ] && whos="base ours qemu"

# one WHO CACHE APPEND -> the guest's "bench ..." line
one() {
    local who=$1 cache=$2 append=$3
    [ "$format" = qcow2 ] && [ "$qcow2_prealloc" = off ] && make_qcow2
    if [ "$who" = base ]; then
        timeout 600 "$baseline" --kernel "$guests/blk.elf" --memory 256M --disk "$image,cache=$cache,format=$format" --append "$append" 2>/dev/null
    elif [ "$who" = ours ]; then
        timeout 600 "$vmm" --kernel "$guests/blk.elf" --memory 256M --disk "$image,cache=$cache,format=$format" --append "$append" 2>/dev/null
    else
        timeout 600 "$qemu" -M pc -accel kvm -m 256 -nodefaults -display none -monitor none -serial stdio -no-reboot \
            -kernel "$guests/blk.elf" -append "$append" \
            -device virtio-blk-pci,drive=d0,disable-legacy=on \
            -drive "if=none,id=d0,file=$image,format=$format,cache=$cache,aio=threads" 2>/dev/null
    fi | tr -d '\r' | grep -m1 '^bench ' || echo "bench failed"
}

field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }

# case CACHE NAME BS QD OPSARG
run_case() {
    local cache=$1 name=$2 bs=$3 qd=$4 amount=$5
    local append="mode=bench bench=$name bs=$bs qd=$qd $amount"
    local base_k=() ours_k=() qemu_k=() base_i=() ours_i=() qemu_i=() r line k i
    for ((r = 0; r < reps; r++)); do
        for who in $whos; do
            line=$(one "$who" "$cache" "$append")
            [[ $line == "bench failed" ]] && { echo "bench: $who $append failed" >&2; line="kBps=0 iops=0"; }
            k=$(field kBps <<<"$line"); i=$(field iops <<<"$line")
            case $who in
                base) base_k+=("$k"); base_i+=("$i") ;;
                ours) ours_k+=("$k"); ours_i+=("$i") ;;
                qemu) qemu_k+=("$k"); qemu_i+=("$i") ;;
            esac
        done
    done
    local ok qk oi qi bk bi unit o q b
    ok=$(printf '%s\n' "${ours_k[@]}" | median); qk=$(printf '%s\n' "${qemu_k[@]}" | median)
    oi=$(printf '%s\n' "${ours_i[@]}" | median); qi=$(printf '%s\n' "${qemu_i[@]}" | median)
    if [ "$bs" -ge 1048576 ]; then unit=MB/s; o=$((ok / 1024)); q=$((qk / 1024)); else unit=IOPS; o=$oi; q=$qi; fi
    local label=4K; [ "$bs" -ge 1048576 ] && label=1M
    local basecol=""
    if [ -n "$baseline" ]; then
        bk=$(printf '%s\n' "${base_k[@]}" | median); bi=$(printf '%s\n' "${base_i[@]}" | median)
        if [ "$bs" -ge 1048576 ]; then b=$((bk / 1024)); basecol=$(printf '  base %7s %s (%s)' "$b" "$unit" "$(ratio "$bk" "$qk")")
        else basecol=$(printf '  base %7s %s (%s)' "$bi" "$unit" "$(ratio "$bi" "$qi")"); fi
    fi
    local r_ours; if [ "$bs" -ge 1048576 ]; then r_ours=$(ratio "$ok" "$qk"); else r_ours=$(ratio "$oi" "$qi"); fi
    printf '%-6s %-10s %-9s bs=%-4s qd=%-2s  ours %7s %s  qemu %7s %s  ratio %s%s\n' "$format" "cache=$cache" "$name" "$label" "$qd" \
        "$o" "$unit" "$q" "$unit" "$r_ours" "$basecol"
}

echo "virtio-blk, $(nproc) CPUs, $(uname -r), KVM: $(test -d /sys/module/kvm_pvm && echo pvm || echo hardware), median of $reps"
[[ " $formats " == *" qcow2 "* ]] && echo "qcow2: 64 KiB clusters, preallocation=$qcow2_prealloc"
for format in $formats; do
    if [ "$format" = qcow2 ]; then image=$qcow2_image; make_qcow2; else image=$raw_image; fi
    for cache in $caches; do
        run_case "$cache" seqread 1048576 1 "mib=$seq_mib"
        run_case "$cache" seqwrite 1048576 1 "mib=$seq_mib"
        run_case "$cache" randread 4096 1 "ops=$rand_ops"
        run_case "$cache" randwrite 4096 1 "ops=$rand_ops"
        run_case "$cache" randread 4096 "$qd_deep" "ops=$rand_ops"
        run_case "$cache" randwrite 4096 "$qd_deep" "ops=$rand_ops"
    done
done
