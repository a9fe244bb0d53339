#!/usr/bin/env bash
# Idle cost of one VM: the host CPU a VMM uses while its guest sits halted (the hello guest with end=halt: it prints
# its verdict, then cli; hlt), with the display on and no viewer, and with a viewer connected to an unchanging screen;
# platform-vmm against QEMU in the same run: a microvm with -vnc (the issue's anchor) and a pc with -vga std -vnc (the
# same std-vga screen as ours).
#   bench/density.sh                        30 s windows
#   SECONDS_=60 SETTLE=10 bench/density.sh
# CPU is the sum over the process's threads of /proc/PID/task/TID/schedstat's first field (nanoseconds on a CPU, not
# the 10 ms ticks of stat), read SETTLE seconds after the halt and again WINDOW seconds later, as % of one core.
# Three cases: no viewer ever; a viewer that connected for a second and left before the window (a closed console);
# a viewer connected through the window, its screen unchanging.
# For platform-vmm the threads that used any CPU in the window are listed by name, so idle costs can be found.
# The viewer is bench/vnc-client.cs (one update request outstanding, as noVNC keeps): it connects over TCP before
# the window and stays for all of it.
source "$(dirname "$0")/common.sh"
window=${SECONDS_:-30}
settle=${SETTLE:-5}
build_all
dotnet build "$repo/bench/vnc-client.cs" -o "$repo/artifacts/vnc-client" -nologo -v quiet >/dev/null
client=("$repo/artifacts/vnc-client/vnc-client")

free_port() {
    local port=0
    while [ "$port" -lt 5900 ]; do
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    done
    echo "$port"
}

wait_for() { # FILE TEXT
    for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "bench: '$2' did not appear in $1:" >&2; cat "$1" >&2; return 1
}

# thread_ns PID: "TID NAME NS" for each live thread of the process and of its children (a jailed platform-vmm, what
# root starts by default, is its keeper's child: the VMM's threads are there).
thread_ns() {
    local task
    for task in /proc/"$1"/task/* $(for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo /proc/"$c"/task/*; done); do
        printf '%s %s %s\n' "${task##*/}" "$(tr ' ' '_' <"$task/comm" 2>/dev/null)" "$(awk '{ print $1 }' "$task/schedstat" 2>/dev/null)"
    done
}

# measure NAME VIEWER(no|left|yes) -- command...: prints "% of a core" over the window; for ours, the busy threads
# to stderr. left: a viewer connects for a second and leaves before the window (what a closed console tab leaves).
measure() {
    local name=$1 viewer=$2; shift 3
    local log port pid viewer_pid="" before after
    log=$(mktemp)
    port=$(free_port)
    local cmd=("${@//@PORT@/$port}")
    cmd=("${cmd[@]//@DISPLAY@/$((port - 5900))}")
    cmd=("${cmd[@]//@LOG@/$log}")
    "${cmd[@]}" >>"$log" 2>&1 </dev/null &
    pid=$!
    wait_for "$log" "PLATFORM-TEST hello PASS"
    case $viewer in
        yes) "${client[@]}" "127.0.0.1:$port" "zrle,copyrect,desktopsize" "$((window + settle + 5))" 0 "$pid" >/dev/null 2>&1 &
             viewer_pid=$! ;;
        left) # The client waits for updates that a still screen never sends: it is stopped after a second.
              "${client[@]}" "127.0.0.1:$port" "zrle,copyrect,desktopsize" 1 0 "$pid" >/dev/null 2>&1 &
              viewer_pid=$!
              sleep 1
              kill "$viewer_pid" 2>/dev/null; wait "$viewer_pid" 2>/dev/null || true
              viewer_pid="" ;;
    esac
    sleep "$settle"
    before=$(thread_ns "$pid" | sort)
    sleep "$window"
    after=$(thread_ns "$pid" | sort)
    # Per thread: the time it ran in the window (a thread started inside it counts whole; one that ended inside it
    # is left out: threads end here only after idling, a thread pool worker after 20 s without work).
    local threads
    threads=$(join -a 2 -e 0 -o 0,2.2,1.3,2.3 <(echo "$before") <(echo "$after") | awk '{ print $1, $2, $4 - $3 }')
    if [ "$name" = ours ]; then
        awk -v w="$window" '$3 > 0 { printf "    %-16s %8.3f ms/s\n", $2, $3 / 1e6 / w }' <<<"$threads" | sort -k2 -nr >&2
    fi
    [ -n "$viewer_pid" ] && { kill "$viewer_pid" 2>/dev/null; wait "$viewer_pid" 2>/dev/null || true; }
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    rm -f "$log"
    awk -v w="$window" '{ s += $3 } END { printf "%.3f\n", s / 1e9 / w * 100 }' <<<"$threads"
}

ours=("$vmm" --kernel "$guests/hello.elf" --memory 64M --serial stdio --append end=halt --vnc 127.0.0.1:@PORT@)
microvm=("$qemu" -M microvm -accel kvm -m 64 -nodefaults -no-user-config -vnc 127.0.0.1:@DISPLAY@ -monitor none
    -serial file:@LOG@ -no-reboot -kernel "$guests/hello.elf" -append end=halt)
pc=("$qemu" -M pc -accel kvm -m 64 -nodefaults -vga std -vnc 127.0.0.1:@DISPLAY@ -monitor none
    -serial file:@LOG@ -no-reboot -kernel "$guests/hello.elf" -append end=halt)

printf 'one idle VM (hello guest halted, 64 MiB, display on), %% of one core over %d s:\n' "$window"
printf '%-30s %12s %14s %12s\n' "" platform-vmm "qemu microvm" "qemu pc"
for viewer in no left yes; do
    case $viewer in
        no) label="no viewer" ;;
        left) label="a viewer came and went" ;;
        yes) label="viewer, unchanging screen" ;;
    esac
    echo "platform-vmm threads ($label):" >&2
    a=$(measure ours "$viewer" -- "${ours[@]}")
    b=$(measure microvm "$viewer" -- "${microvm[@]}")
    c=$(measure pc "$viewer" -- "${pc[@]}")
    printf '%-30s %11s%% %13s%% %11s%%\n' "$label" "$a" "$b" "$c"
done
