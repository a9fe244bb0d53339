# Shared helpers for the benchmarks: build what is measured and time guest markers on serial output.
# shellcheck shell=bash
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
guests=$repo/tests/guests/build
vmm=$repo/artifacts/vmm/platform-vmm
qemu=${QEMU:-qemu-system-x86_64}

build_all() {
    make -s -C "$repo/tests/guests"
    bash "$repo/scripts/publish-vmm.sh"
    command -v "$qemu" >/dev/null || { echo "bench: $qemu missing (apt-get install qemu-system-x86)" >&2; exit 1; }
}

now_us() { echo $(( $(date +%s%N) / 1000 )); }

# run_marked MARKER1 [MARKER2 ...] -- command...   (a marker "=TEXT" must be the whole line)
# Starts the command, prints the microseconds from start to each marker's first appearance (one per line),
# then the peak RSS in KiB (VmHWM) read just after the last marker, and kills the command.
run_marked() {
    local markers=()
    while [ "$1" != "--" ]; do markers+=("$1"); shift; done
    shift
    local fifo; fifo=$(mktemp -u); mkfifo "$fifo"
    local start; start=$(now_us)
    "$@" </dev/null >"$fifo" 2>/dev/null &
    local pid=$!
    local i=0 line hwm=0
    exec 9<"$fifo"
    while [ $i -lt ${#markers[@]} ] && IFS= read -r -t 60 line <&9; do
        line=${line%$'\r'}
        local m=${markers[$i]}
        if { [[ $m == =* ]] && [[ $line == "${m#=}" ]]; } || { [[ $m != =* ]] && [[ $line == *"$m"* ]]; }; then
            echo $(( $(now_us) - start ))
            i=$((i + 1))
        fi
    done
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    echo "${hwm:-0}"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    exec 9<&-
    rm -f "$fifo"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
