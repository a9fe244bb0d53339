#!/usr/bin/env bash
# Idle cost of one VM: the host CPU a VMM uses while its guest sits halted (the hello guest with end=halt: it prints
# its verdict, then cli; hlt), with the display on and no viewer, and with a viewer connected to an unchanging screen;
# platform-vmm against QEMU in the same run: a microvm with -vnc (the issue's anchor) and a pc with -vga std -vnc (the
# same std-vga screen as ours).
#   bench/density.sh                        30 s windows
#   SECONDS_=60 SETTLE=10 bench/density.sh
# CPU is the sum over the process's threads of /proc/PID/task/TID/schedstat's first field (nanoseconds on a CPU, not
# the 10 ms ticks of stat), read after SETTLE seconds at the halt and again WINDOW seconds later, as % of one core.
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

# cpu_ns PID: nanoseconds on a CPU, all live threads together.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

# thread_ns PID: "TID NAME NS" for each live thread.
thread_ns() {
    local task
    for task in /proc/"$1"/task/*; do
        printf '%s %s %s\n' "${task##*/}" "$(tr ' ' '_' <"$task/comm" 2>/dev/null)" "$(awk '{ print $1 }' "$task/schedstat" 2>/dev/null)"
    done
}

# measure NAME VIEWER(yes|no) -- command...: prints "% of a core" over the window; for ours, the busy threads to stderr.
measure() {
    local name=$1 viewer=$2; shift 3
    local log port pid viewer_pid="" before after threads_before
    log=$(mktemp)
    port=$(free_port)
    local cmd=("${@//@PORT@/$port}")
    cmd=("${cmd[@]//@DISPLAY@/$((port - 5900))}")
    cmd=("${cmd[@]//@LOG@/$log}")
    "${cmd[@]}" >>"$log" 2>&1 </dev/null &
    pid=$!
    wait_for "$log" "PLATFORM-TEST hello PASS"
    if [ "$viewer" = yes ]; then
        "${client[@]}" "127.0.0.1:$port" "zrle,copyrect,desktopsize" "$((window + settle + 5))" 0 "$pid" >/dev/null 2>&1 &
        viewer_pid=$!
    fi
    sleep "$settle"
    threads_before=$(thread_ns "$pid")
    before=$(cpu_ns "$pid")
    sleep "$window"
    after=$(cpu_ns "$pid")
    if [ "$name" = ours ]; then
        # Threads that ran in the window, busiest first (threads started or ended inside it are left out).
        join <(sort <<<"$threads_before") <(thread_ns "$pid" | sort) 2>/dev/null |
            awk -v w="$window" '$5 > $3 { printf "    %-16s %8.3f ms/s\n", $2, ($5 - $3) / 1e6 / w }' | sort -k2 -nr >&2
    fi
    [ -n "$viewer_pid" ] && { kill "$viewer_pid" 2>/dev/null; wait "$viewer_pid" 2>/dev/null || true; }
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    rm -f "$log"
    awk -v a="$before" -v b="$after" -v w="$window" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 / w * 100 }'
}

ours=("$vmm" --kernel "$guests/hello.elf" --memory 64M --serial stdio --append end=halt --vnc 127.0.0.1:@PORT@)
microvm=("$qemu" -M microvm -accel kvm -m 64 -nodefaults -no-user-config -vnc 127.0.0.1:@DISPLAY@ -monitor none
    -serial file:@LOG@ -no-reboot -kernel "$guests/hello.elf" -append end=halt)
pc=("$qemu" -M pc -accel kvm -m 64 -nodefaults -vga std -vnc 127.0.0.1:@DISPLAY@ -monitor none
    -serial file:@LOG@ -no-reboot -kernel "$guests/hello.elf" -append end=halt)

printf 'one idle VM (hello guest halted, 64 MiB, display on), %% of one core over %d s:\n' "$window"
printf '%-30s %12s %14s %12s\n' "" platform-vmm "qemu microvm" "qemu pc"
for viewer in no yes; do
    [ "$viewer" = no ] && label="no viewer" || label="viewer, unchanging screen"
    echo "platform-vmm threads ($label):" >&2
    a=$(measure ours "$viewer" -- "${ours[@]}")
    b=$(measure microvm "$viewer" -- "${microvm[@]}")
    c=$(measure pc "$viewer" -- "${pc[@]}")
    printf '%-30s %11s%% %13s%% %11s%%\n' "$label" "$a" "$b" "$c"
done
