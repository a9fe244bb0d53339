#!/usr/bin/env bash
# Firmware boot, ours vs QEMU -M pc, in the same run: process start to the boot sector's first serial line
# ("PLATFORM-TEST mbr START", printed by the mbr guest's first instructions after SeaBIOS loaded it), and to its
# verdict ("PLATFORM-TEST mbr PASS"). Both run Debian's SeaBIOS on the same 1 MiB image (read-only, virtio-blk, no
# display, so SeaBIOS's screen goes to COM1), so the difference is our chipset, fw_cfg and exits. The median of RUNS
# runs (5), the two VMMs alternating so both see the same host load.
source "$(dirname "$0")/common.sh"
runs=${RUNS:-5}
build_all
image=$guests/mbr.img

qemu_args=(-M pc -accel kvm -m 128 -bios /usr/share/seabios/bios.bin -nographic -nodefaults -serial stdio -monitor none
    -no-reboot -drive "if=none,id=d0,file=$image,format=raw,readonly=on" -device virtio-blk-pci,drive=d0,disable-legacy=on)

ours_start=() ours_pass=() theirs_start=() theirs_pass=()
for _ in $(seq "$runs"); do
    t=$(run_marked "PLATFORM-TEST mbr START" "PLATFORM-TEST mbr PASS" -- \
        "$vmm" --firmware bios --display none --memory 128M --disk "$image,ro")
    ours_start+=("$(sed -n 1p <<<"$t")") ours_pass+=("$(sed -n 2p <<<"$t")")
    t=$(run_marked "PLATFORM-TEST mbr START" "PLATFORM-TEST mbr PASS" -- "$qemu" "${qemu_args[@]}")
    theirs_start+=("$(sed -n 1p <<<"$t")") theirs_pass+=("$(sed -n 2p <<<"$t")")
done

ms() { awk -v v="$1" 'BEGIN { printf "%.0f", v / 1000 }'; }
report() {
    local what=$1 ours theirs
    shift
    ours=$(printf '%s\n' "${@:1:$runs}" | median)
    theirs=$(printf '%s\n' "${@:$((runs + 1))}" | median)
    printf '%s (median of %d): platform-vmm %s ms, qemu -M pc %s ms, ratio %s\n' \
        "$what" "$runs" "$(ms "$ours")" "$(ms "$theirs")" "$(ratio "$ours" "$theirs")"
}
report "process start to the boot sector's first line" "${ours_start[@]}" "${theirs_start[@]}"
report "process start to the boot sector's PASS" "${ours_pass[@]}" "${theirs_pass[@]}"
echo "samples (ms): platform-vmm $(for v in "${ours_start[@]}"; do ms "$v"; printf ' '; done)| qemu $(for v in "${theirs_start[@]}"; do ms "$v"; printf ' '; done)"
