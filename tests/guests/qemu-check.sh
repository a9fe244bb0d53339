#!/usr/bin/env bash
# Boots every test guest under QEMU and checks its PLATFORM-TEST lines.
#   tests/guests/qemu-check.sh                 # whole matrix, -M pc
#   MACHINE=microvm tests/guests/qemu-check.sh hello smp
#   O=/tmp/g ACCEL=tcg tests/guests/qemu-check.sh
# Build first (make -C tests/guests). Exit status 0 when every case passed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
B=${O:-$here/build}
QEMU=${QEMU:-qemu-system-x86_64}
ACCEL=${ACCEL:-kvm}
MACHINE=${MACHINE:-pc}
TIMEOUT=${TIMEOUT:-60}
failures=0
QEXTRA=()   # extra QEMU arguments for the next run (devices)

# run NAME SMP APPEND EXPECT [INPUT]: boot, feed INPUT after READY, check output.
run() {
    local name=$1 smp=$2 append=$3 expect=$4 input=${5:-}
    local log; log=$(mktemp)
    local start=$SECONDS
    local kernel=$B/$name.elf   # or a guest laid out as a bzImage (bzimage/)
    [[ -f $B/$name.bzImage ]] && kernel=$B/$name.bzImage
    coproc Q { exec timeout "$TIMEOUT" "$QEMU" -M "$MACHINE" -accel "$ACCEL" -m 256 -smp "$smp" -nodefaults \
        -display none -monitor none -serial stdio -no-reboot -kernel "$kernel" -append "$append" "${QEXTRA[@]}" 2>&1; }
    local qpid=$Q_PID qin=${Q[1]} qout=${Q[0]} line
    while IFS= read -r line <&"$qout"; do
        line=${line%$'\r'}
        printf '%s\n' "$line" >>"$log"
        if [[ -n $input && $line == *READY* ]]; then
            printf '%s' "${input%q}" >&"$qin"; sleep 0.5; printf 'q' >&"$qin"
        fi
        # microvm has no i8042: the guest halts after its verdict instead of ending QEMU.
        [[ $MACHINE == microvm* && $line == "PLATFORM-TEST $name "@(PASS|FAIL)* ]] && kill "$qpid" 2>/dev/null
    done
    wait "$qpid" 2>/dev/null
    local secs=$((SECONDS - start)) verdict=ok
    grep -q "^PLATFORM-TEST $name PASS" "$log" || verdict=FAIL
    grep -q "^PLATFORM-TEST $name FAIL" "$log" && verdict=FAIL
    local want # EXPECT may hold several lines, each of which must appear
    while IFS= read -r want; do
        [[ -n $want ]] && ! grep -qF -- "$want" "$log" && verdict=FAIL
    done <<<"$expect"
    printf '%-4s %-8s smp=%s %-22s (%ss)\n' "$verdict" "$name" "$smp" "\"$append\"" "$secs"
    if [[ $verdict != ok ]]; then
        failures=$((failures + 1))
        sed 's/^/    | /' "$log" | tail -20
    fi
    rm -f "$log"
}

# run_input: the input guest with QEMU's virtio tablet and keyboard, driven through QMP on a loopback port once the
# guest is READY: a move, a click, a wheel step, the A key, then Escape (which ends it).
run_input() {
    local log; log=$(mktemp)
    local port=$((20000 + RANDOM % 40000)) start=$SECONDS
    "$QEMU" -M "$MACHINE" -accel "$ACCEL" -m 256 -smp 1 -nodefaults -display none -monitor none \
        -qmp "tcp:127.0.0.1:$port,server=on,wait=off" -serial "file:$log" -no-reboot -kernel "$B/input.elf" \
        -device virtio-tablet-pci,disable-legacy=on -device virtio-keyboard-pci,disable-legacy=on >/dev/null 2>&1 &
    local qpid=$!
    local i
    for ((i = 0; i < TIMEOUT * 10; i++)); do
        grep -q -e READY -e 'PLATFORM-TEST input FAIL' "$log" 2>/dev/null && break
        sleep 0.1
    done
    if grep -q READY "$log" && exec 3<>"/dev/tcp/127.0.0.1/$port"; then
        local ev='{"execute":"input-send-event","arguments":{"events":['
        printf '%s\n' '{"execute":"qmp_capabilities"}' \
            "$ev"'{"type":"abs","data":{"axis":"x","value":16400}},{"type":"abs","data":{"axis":"y","value":8000}}]}}' \
            "$ev"'{"type":"btn","data":{"button":"left","down":true}}]}}' \
            "$ev"'{"type":"btn","data":{"button":"left","down":false}}]}}' \
            "$ev"'{"type":"btn","data":{"button":"wheel-down","down":true}}]}}' \
            "$ev"'{"type":"btn","data":{"button":"wheel-down","down":false}}]}}' \
            "$ev"'{"type":"key","data":{"key":{"type":"qcode","data":"a"},"down":true}}]}}' \
            "$ev"'{"type":"key","data":{"key":{"type":"qcode","data":"a"},"down":false}}]}}' \
            "$ev"'{"type":"key","data":{"key":{"type":"qcode","data":"esc"},"down":true}}]}}' \
            "$ev"'{"type":"key","data":{"key":{"type":"qcode","data":"esc"},"down":false}}]}}' >&3
        for ((i = 0; i < TIMEOUT * 10; i++)); do
            grep -qE 'PLATFORM-TEST input (PASS|FAIL)' "$log" && break
            sleep 0.1
        done
        exec 3>&-
    fi
    kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null
    local verdict=ok expect
    for expect in "PLATFORM-TEST input PASS" "input: tablet EV_ABS ABS_X 16400" "input: tablet EV_ABS ABS_Y 8000" \
        "input: tablet EV_KEY BTN_LEFT 0" "input: tablet EV_REL REL_WHEEL -1" "input: keyboard EV_KEY 30 1" \
        "input: keyboard EV_KEY 1 0"; do
        grep -qF -- "$expect" "$log" || verdict=FAIL
    done
    grep -q "^ps2: key" "$log" && verdict=FAIL   # QEMU sends keys to the active virtio keyboard only
    printf '%-4s %-8s smp=1 %-22s (%ss)\n' "$verdict" input "\"QMP input events\"" "$((SECONDS - start))"
    if [[ $verdict != ok ]]; then
        failures=$((failures + 1))
        sed 's/^/    | /' "$log" | tail -20
    fi
    rm -f "$log"
}

# run_resize IRQ: blk mode=resize on a 16 MiB raw disk; once the guest waits, QMP's block_resize grows the drive to
# 24 MiB and the guest must see the configuration change interrupt and the new capacity.
run_resize() {
    local irq=$1 log img; log=$(mktemp); img=$(mktemp --suffix=.img); truncate -s 16M "$img"
    local port=$((20000 + RANDOM % 40000)) start=$SECONDS i
    "$QEMU" -M "$MACHINE" -accel "$ACCEL" -m 256 -smp 1 -nodefaults -display none -monitor none \
        -qmp "tcp:127.0.0.1:$port,server=on,wait=off" -serial "file:$log" -no-reboot -kernel "$B/blk.elf" \
        -append "mode=resize irq=$irq seed=0x77" -device virtio-blk-pci,drive=d0,disable-legacy=on \
        -drive "if=none,id=d0,file=$img,format=raw" >/dev/null 2>&1 &
    local qpid=$!
    for ((i = 0; i < TIMEOUT * 10; i++)); do
        grep -q -e 'waiting for a configuration change' -e 'PLATFORM-TEST blk FAIL' "$log" 2>/dev/null && break
        sleep 0.1
    done
    if grep -q 'waiting for a configuration change' "$log" && exec 3<>"/dev/tcp/127.0.0.1/$port"; then
        printf '%s\n' '{"execute":"qmp_capabilities"}' \
            '{"execute":"block_resize","arguments":{"device":"d0","size":25165824}}' >&3
        for ((i = 0; i < TIMEOUT * 10; i++)); do
            grep -qE 'PLATFORM-TEST blk (PASS|FAIL)' "$log" && break
            sleep 0.1
        done
        exec 3>&-
    fi
    kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null
    local verdict=ok expect
    for expect in "PLATFORM-TEST blk PASS" "blk: configuration change: capacity 49152 sectors (was 32768)"; do
        grep -qF -- "$expect" "$log" || verdict=FAIL
    done
    printf '%-4s %-8s smp=1 %-22s (%ss)\n' "$verdict" blk "\"QMP block_resize $irq\"" "$((SECONDS - start))"
    if [[ $verdict != ok ]]; then
        failures=$((failures + 1))
        sed 's/^/    | /' "$log" | tail -20
    fi
    rm -f "$log" "$img"
}

shopt -s extglob
sel=("$@")
pick() { [[ ${#sel[@]} -eq 0 ]] && return 0; local s; for s in "${sel[@]}"; do [[ $s == "$1" ]] && return 0; done; return 1; }

pick hello && run hello 2 "hello=1 x=y" "cmdline: hello=1 x=y"
pick echo && run echo 2 "" "ABC HELLO" "abc helloq"
pick echo && run echo 2 "irq=pic" "ABC HELLO" "abc helloq"
pick smp && run smp 2 "" "smp: 2 CPUs"
pick smp && run smp 4 "" "smp: 4 CPUs"
pick smp && run smp 2 "cpus=2" "smp: 2 CPUs"
pick timer && run timer 2 "" "20 ticks"
pick timer && run timer 2 "irq=pic" "20 ticks via 8259"
pick rtc && run rtc 2 "" "RTC 20"
pick hpet && run hpet 1 "" "legacy replacement on: IRQ 0 and IRQ 8 quiet for 120 ms (0 interrupts)
periodic timer 0 (1 ms) interrupted 10 times, no sooner than 9 ms: yes"
# run_vga NAME EXPECT: a graphics guest under SeaBIOS with QEMU's std-vga (-device VGA, no window); it halts with its
# picture on screen rather than resetting, so QEMU is ended once COM1 has its verdict. (Engine.Tests'
# FirmwareGraphicsModeTests compares the picture with ours through QEMU's screendump.)
run_vga() {
    local name=$1 expect=$2
    local log; log=$(mktemp)
    local start=$SECONDS
    timeout "$TIMEOUT" "$QEMU" -M "$MACHINE" -accel "$ACCEL" -m 128 -bios /usr/share/seabios/bios.bin -nodefaults \
        -device VGA -display none -serial "file:$log" -monitor none -no-reboot \
        -drive "if=none,id=d0,file=$B/$name.img,format=raw,readonly=on" -device virtio-blk-pci,drive=d0,disable-legacy=on \
        </dev/null >/dev/null 2>&1 &
    local qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        grep -q "^PLATFORM-TEST $name \(PASS\|FAIL\)" "$log" 2>/dev/null && break
        sleep 0.2
    done
    kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null
    local verdict=ok
    grep -q "^PLATFORM-TEST $name PASS" "$log" || verdict=FAIL
    grep -qF -- "$expect" "$log" || verdict=FAIL
    printf '%-4s %-8s %-28s (%ss)\n' "$verdict" "$name" "SeaBIOS, -device VGA" "$((SECONDS - start))"
    if [[ $verdict != ok ]]; then
        failures=$((failures + 1))
        sed 's/^/    | /' "$log" | tail -20
    fi
    rm -f "$log"
}

if [[ $MACHINE == microvm* ]]; then
    pick reset && echo "skip reset    (microvm has no i8042: the guest prints FAIL after 1 s by design)"
else
    pick reset && run reset 2 "" "pulsing"
fi
pick ioloop && run ioloop 2 "" "DONE n=100000"
pick ioloop && run ioloop 2 "op=in n=20000" "DONE n=20000"
pick mmioloop && run mmioloop 2 "" "DONE n=100000"
pick mmioloop && run mmioloop 2 "op=read n=20000" "DONE n=20000"
pick trap && run trap 2 "" "self-IPI vector 0x60 delivered 1"
# acpidirect: QEMU's tables (SeaBIOS installs them), found by scanning; S5 ends QEMU. microvm has ACPI without a PM block.
if [[ $MACHINE != microvm* ]]; then
    pick acpidirect && run acpidirect 2 "" "PM1a_CNT 0x00000604
acpi: \\_S5 SLP_TYPa 0
local APICs 2 IOAPICs 1"
fi
# bzimage: QEMU's bzImage loader and the guest's real-mode setup code (qboot's too under microvm).
if pick bzimage; then
    initrd=$(mktemp); printf 'initrd bytes' >"$initrd"
    QEXTRA=(-initrd "$initrd")
    run bzimage 1 "console=ttyS0 quoted=\"a b\"" "bz: entry 32
bz: cmdline 'console=ttyS0 quoted=\"a b\"'
bz: ramdisk_size 0xc"
    QEXTRA=()
    rm -f "$initrd"
fi
if [[ $MACHINE == microvm* ]]; then
    pick fb && echo "skip fb       (microvm has no PCI VGA)"
else
    QEXTRA=(-vga std)
    pick fb && run fb 2 "echo=0" "fb: mode 640x480x32 stride 2560"
    pick fb && run fb 2 "echo=0 mode=1024x768" "fb: mode 1024x768x32 stride 4096"
    QEXTRA=()
fi

# PCI and virtio (modern only: disable-legacy=on). microvm has no PCI bus on ports 0xCF8/0xCFC.
if [[ $MACHINE == microvm* ]]; then
    pick pci && echo "skip pci/rng/blk/input (microvm has no PCI host bridge on ports 0xCF8/0xCFC)"
else
    img=$(mktemp --suffix=.img); truncate -s 16M "$img"
    blk=(-device virtio-blk-pci,drive=d0,disable-legacy=on,serial=qemu-disk -drive "if=none,id=d0,file=$img,format=raw")
    QEXTRA=("${blk[@]}" -device virtio-rng-pci,disable-legacy=on)
    pick pci && run pci 1 "" "1af4:1042 class 010000"
    QEXTRA=(-device virtio-rng-pci,disable-legacy=on)
    for irq in msix intx poll; do pick rng && run rng 1 "irq=$irq" "distinct"; done
    QEXTRA=("${blk[@]}")
    for irq in msix intx poll; do pick blk && run blk 1 "irq=$irq sector=8 count=16 writes=4" "read back equal"; done
    pick blk && run blk 1 "mode=durable writes=3" "acked 2"
    pick blk && run blk 1 "mode=deep sector=8 count=16 writes=32 qd=8" "read back equal"
    # mode=bad is ours only: QEMU completes a request whose buffer lies outside RAM (DMA to an unassigned
    # address is dropped, as on a real bus) instead of setting NEEDS_RESET.
    QEXTRA=(-device virtio-blk-pci,drive=d0,disable-legacy=on -drive "if=none,id=d0,file=$img,format=raw,readonly=on")
    pick blk && run blk 1 "mode=ro" "(IOERR)"
    # ahci: the same scratch image as a SATA disk on QEMU's ICH9 AHCI (ide-hd on port 0).
    QEXTRA=(-device ahci,id=ahci -drive "if=none,id=s0,file=$img,format=raw" -device ide-hd,drive=s0,bus=ahci.0)
    pick ahci && run ahci 1 "sectors=32768 sector=9 count=24 ncq=12 msi=1" "read back equal by DMA and NCQ
the port recovered
vector 0x61 taken 2 time(s), PCI status INTx 0
MSI off: PxIS 0x1, PCI status INTx 1, vectors 2"
    QEXTRA=()
    rm -f "$img"
    for irq in msix intx; do pick blk && run_resize "$irq"; done
    pick input && run_input
    # nat: the same passt our --net user starts, reached through QEMU's -netdev stream (the framing we speak too).
    if pick nat; then
        sock=$(mktemp -u --suffix=.sock) echo_port=$((20000 + RANDOM % 20000))
        python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",int(sys.argv[1])))
while True:
    d,a=s.recvfrom(2048); s.sendto(d,a)' "$echo_port" & echo_pid=$!
        # The same on the host's IPv6 loopback, which passt reaches at its gateway address (the host's own).
        python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); s.bind(("::1",int(sys.argv[1])))
while True:
    d,a=s.recvfrom(2048); s.sendto(d,a)' "$echo_port" 2>/dev/null & echo6_pid=$!
        runas=(); [[ $(id -u) == 0 ]] && runas=(--runas 65534:65534)
        passt --foreground --quiet --mtu 1500 "${runas[@]}" --socket "$sock" --one-off >/dev/null 2>&1 & passt_pid=$!
        for ((i = 0; i < 50; i++)); do [[ -S $sock ]] && break; sleep 0.1; done
        QEXTRA=(-netdev "stream,id=n0,server=off,addr.type=unix,addr.path=$sock" -device virtio-net-pci,netdev=n0,disable-legacy=on)
        # IPv6 (NDP and DHCPv6) only where passt offers it: it needs an IPv6 default route on the host.
        if awk '$1 ~ /^0+$/ && $2 == "00" && $10 != "lo" { found = 1 } END { exit !found }' /proc/net/ipv6_route 2>/dev/null; then
            gw6=$(awk '$1 ~ /^0+$/ && $2 == "00" && $10 != "lo" { print $5; exit }' /proc/net/ipv6_route)
            run nat 1 "echo=$echo_port v6=1 ping6=1 echo6=$echo_port host6=$gw6" "udp: echo 'through-the-nat'
ndp: router fe80::
dhcpv6: address
ndp: announced
ping6: reply
udp6: echo 'through-the-nat-v6'"
        else
            echo "note nat: the host has no IPv6 default route, so passt offers no IPv6: IPv4 only"
            run nat 1 "echo=$echo_port" "udp: echo 'through-the-nat'"
        fi
        QEXTRA=()
        kill "$echo_pid" "$echo6_pid" "$passt_pid" 2>/dev/null; wait "$echo_pid" "$echo6_pid" "$passt_pid" 2>/dev/null; rm -f "$sock"
    fi
fi

# Boot sectors: SeaBIOS boots the image from a virtio-blk disk; -nographic puts SeaBIOS's screen (int 10h) on COM1.
# run_boot NAME EXPECT
run_boot() {
    local name=$1 expect=$2
    local log; log=$(mktemp)
    local start=$SECONDS
    timeout "$TIMEOUT" "$QEMU" -M "$MACHINE" -accel "$ACCEL" -m 128 -bios /usr/share/seabios/bios.bin -nographic -nodefaults \
        -serial stdio -monitor none -no-reboot -drive "if=none,id=d0,file=$B/$name.img,format=raw,readonly=on" \
        -device virtio-blk-pci,drive=d0,disable-legacy=on </dev/null 2>&1 | tr -d '\r' >"$log"
    local verdict=ok
    grep -q "^PLATFORM-TEST $name PASS" "$log" || verdict=FAIL
    grep -qF -- "$expect" "$log" || verdict=FAIL
    printf '%-4s %-8s %-28s (%ss)\n' "$verdict" "$name" "SeaBIOS from virtio-blk" "$((SECONDS - start))"
    if [[ $verdict != ok ]]; then
        failures=$((failures + 1))
        sed 's/^/    | /' "$log" | tail -20
    fi
    rm -f "$log"
}

# run_sata NAME EXPECT: a boot sector from a SATA disk on QEMU's ICH9 AHCI port 0 (ide-hd refuses read-only drives, so
# writes go to a throw-away overlay), as ours boots a --disk ...,bus=sata.
run_sata() {
    local name=$1 expect=$2
    local log; log=$(mktemp)
    local start=$SECONDS
    timeout "$TIMEOUT" "$QEMU" -M "$MACHINE" -accel "$ACCEL" -m 128 -bios /usr/share/seabios/bios.bin -nographic -nodefaults \
        -serial stdio -monitor none -no-reboot -device ahci,id=ahci \
        -drive "if=none,id=s0,file=$B/$name.img,format=raw,snapshot=on" -device ide-hd,drive=s0,bus=ahci.0 \
        </dev/null 2>&1 | tr -d '\r' >"$log"
    local verdict=ok
    grep -q "^PLATFORM-TEST $name PASS" "$log" || verdict=FAIL
    grep -qF -- "$expect" "$log" || verdict=FAIL
    printf '%-4s %-8s %-28s (%ss)\n' "$verdict" "$name" "SeaBIOS from an AHCI disk" "$((SECONDS - start))"
    if [[ $verdict != ok ]]; then
        failures=$((failures + 1))
        sed 's/^/    | /' "$log" | tail -20
    fi
    rm -f "$log"
}

# run_cd NAME EXPECT: an El Torito guest (build/NAME.iso) from an ATAPI CD-ROM on QEMU's ICH9 AHCI, as ours.
run_cd() {
    local name=$1 expect=$2
    local log; log=$(mktemp)
    local start=$SECONDS
    timeout "$TIMEOUT" "$QEMU" -M "$MACHINE" -accel "$ACCEL" -m 128 -bios /usr/share/seabios/bios.bin -nographic -nodefaults \
        -serial stdio -monitor none -no-reboot -device ahci,id=ahci \
        -drive "if=none,id=cd,media=cdrom,file=$B/$name.iso,format=raw,readonly=on" -device ide-cd,drive=cd,bus=ahci.0 \
        </dev/null 2>&1 | tr -d '\r' >"$log"
    local verdict=ok
    grep -q "^PLATFORM-TEST $name PASS" "$log" || verdict=FAIL
    grep -qF -- "$expect" "$log" || verdict=FAIL
    printf '%-4s %-8s %-28s (%ss)\n' "$verdict" "$name" "SeaBIOS from an AHCI CD-ROM" "$((SECONDS - start))"
    if [[ $verdict != ok ]]; then
        failures=$((failures + 1))
        sed 's/^/    | /' "$log" | tail -20
    fi
    rm -f "$log"
}

# run_button: acpibtn under SeaBIOS, with QMP's system_powerdown once the guest waits for the power button; QEMU must end
# by itself (the guest's S5), not by the timeout.
run_button() {
    local log; log=$(mktemp)
    local port=$((20000 + RANDOM % 40000)) start=$SECONDS
    timeout "$TIMEOUT" "$QEMU" -M "$MACHINE" -accel "$ACCEL" -m 128 -bios /usr/share/seabios/bios.bin -nographic -nodefaults \
        -serial "file:$log" -monitor none -no-reboot -qmp "tcp:127.0.0.1:$port,server=on,wait=off" \
        -drive "if=none,id=d0,file=$B/acpibtn.img,format=raw,readonly=on" -device virtio-blk-pci,drive=d0,disable-legacy=on \
        </dev/null >/dev/null 2>&1 &
    local qpid=$! i
    for ((i = 0; i < TIMEOUT * 10; i++)); do
        grep -q -e 'waiting for the power button' -e 'PLATFORM-TEST acpibtn FAIL' "$log" 2>/dev/null && break
        sleep 0.1
    done
    if grep -q 'waiting for the power button' "$log" && exec 3<>"/dev/tcp/127.0.0.1/$port"; then
        printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"system_powerdown"}' >&3
        sleep 0.5
        exec 3>&-
    fi
    wait "$qpid"; local rc=$?
    local verdict=ok
    tr -d '\r' <"$log" | grep -q "^PLATFORM-TEST acpibtn PASS" || verdict=FAIL
    grep -q "SCI pending on IRQ 9" "$log" || verdict=FAIL
    [[ $rc -eq 0 ]] || verdict=FAIL   # 124: still running at the timeout, so S5 did not power off
    printf '%-4s %-8s %-28s (%ss)\n' "$verdict" acpibtn "system_powerdown, then S5" "$((SECONDS - start))"
    if [[ $verdict != ok ]]; then
        failures=$((failures + 1))
        sed 's/^/    | /' "$log" | tail -20
    fi
    rm -f "$log"
}

if [[ $MACHINE == microvm* ]]; then
    pick mbr && echo "skip mbr      (microvm's qboot boots no disks here)"
    pick cdboot && echo "skip cdboot   (microvm's qboot boots no CDs here)"
    pick vga12 && echo "skip vga12    (microvm's qboot boots no disks here)"
    for g in vga04 vga10 vga0d vga06; do pick $g && echo "skip $g    (microvm's qboot boots no disks here)"; done
    pick intx && echo "skip intx     (microvm has no PIIX3)"
else
    pick mbr && run_boot mbr "mbr: int 10h teletype says hello"
    pick acpi && run_boot acpi "acpi: PM timer advanced"
    pick acpibtn && run_button
    pick intx && run_sata intx "intx: IRQ 10 arrived on vector 0x2a"
    pick cdboot && run_cd cdboot "cdboot: int 13h extended read of sector 16: volume PLATFORM_CDTEST"
    pick vga12 && run_vga vga12 "vga12: int 10h read pixel 0x0e"
    pick vga04 && run_vga vga04 "vga04: int 10h read pixel 0x03"
    pick vga10 && run_vga vga10 "vga10: int 10h read pixel 0x0e"
    pick vga0d && run_vga vga0d "vga0d: int 10h read pixel 0x0e"
    pick vga06 && run_vga vga06 "vga06: int 10h read pixel 0x01"
fi

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
