# Shared helpers for the benchmarks: build what is measured and time guest markers on serial output.
# shellcheck shell=bash
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
guests=$repo/tests/guests/build
vmm=${VMM:-$repo/artifacts/vmm/platform-vmm}
qemu=${QEMU:-qemu-system-x86_64}

build_all() {
    make -s -C "$repo/tests/guests"
    # VMM=path measures that binary as it is (another build, say) instead of this checkout's NativeAOT publish.
    [ -n "${VMM:-}" ] || bash "$repo/scripts/publish-vmm.sh"
    command -v "$qemu" >/dev/null || { echo "bench: $qemu missing (apt-get install qemu-system-x86)" >&2; exit 1; }
}

# memory_kib PID RAM_KIB: prints "VmHWM VmRSS GUEST" in KiB, where GUEST is the Rss of the process's guest RAM: the
# anonymous mapping exactly RAM_KIB long (the one both VMMs map for a guest's RAM; 0 when none matches). smaps is read
# first, status just after, so the two describe the same moment (the guests measured are idle by then).
memory_kib() {
    local pid=$1 ram_kib=$2 guest
    guest=$(awk -v size="$ram_kib" '
        /^[0-9a-f]+-[0-9a-f]+ / { anon = (NF == 5) }
        /^Size:/ { this = $2 }
        /^Rss:/ { if (anon && this == size) { rss += $2 } }
        END { print rss + 0 }' "/proc/$pid/smaps" 2>/dev/null || echo 0)
    awk -v guest="${guest:-0}" '/^VmHWM/ { hwm = $2 } /^VmRSS/ { rss = $2 } END { print hwm + 0, rss + 0, guest }' \
        "/proc/$pid/status" 2>/dev/null || echo "0 0 0"
}

# run_marked MARKER1 [MARKER2 ...] -- command...   (a marker "=TEXT" must be the whole line)
# Starts the command, prints the microseconds from start to each marker's first appearance (one per line), then
# "VmHWM VmRSS GUEST" (memory_kib, with RAM_KIB from the environment, 0 if unset) read just after the last marker,
# and kills the command. Times come from bash's own clock ($EPOCHREALTIME, microseconds): starting a date process
# for each would add 1 to 5 ms here to every time measured, ours and QEMU's alike.
run_marked() {
    local markers=()
    while [ "$1" != "--" ]; do markers+=("$1"); shift; done
    shift
    local fifo; fifo=$(mktemp -u); mkfifo "$fifo"
    local start; start=${EPOCHREALTIME/[.,]/}
    "$@" </dev/null >"$fifo" 2>/dev/null &
    local pid=$!
    local i=0 line now
    exec 9<"$fifo"
    while [ $i -lt ${#markers[@]} ] && IFS= read -r -t 60 line <&9; do
        now=${EPOCHREALTIME/[.,]/}
        line=${line%$'\r'}
        local m=${markers[$i]}
        if { [[ $m == =* ]] && [[ $line == "${m#=}" ]]; } || { [[ $m != =* ]] && [[ $line == *"$m"* ]]; }; then
            echo $(( 10#$now - 10#$start ))
            i=$((i + 1))
        fi
    done
    # A jailed platform-vmm is the one child of the process started (its jail's keeper): measure the VMM.
    local measured=$pid child
    child=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)
    child=${child%% *}
    if [ -n "$child" ] && [ "$(cat "/proc/$child/comm" 2>/dev/null)" = "$(cat "/proc/$pid/comm" 2>/dev/null)" ]; then
        measured=$child
    fi
    memory_kib "$measured" "${RAM_KIB:-0}"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    exec 9<&-
    rm -f "$fifo"
}

# The host's busy CPU time so far (user, nice, system, irq, softirq, steal), in jiffies of /proc/stat.
busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# Memory the host can still give without swapping, in KiB.
mem_available_kib() { awk '/^MemAvailable/ { print $2 }' /proc/meminfo; }
# rss_kib PID: the process's resident memory in KiB (0 when it is gone).
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
