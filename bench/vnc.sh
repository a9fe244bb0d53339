#!/usr/bin/env bash
# VNC: frames per second, bytes on the wire and VMM CPU per frame at 1024x768, ours vs QEMU's built-in VNC server
# (-vga std -vnc), on the same fb test guest, with the same encodings, in the same run.
#   bench/vnc.sh                      both scenes, ZRLE and Tight
#   SECONDS_=20 ENCODINGS="zrle" SCENES="fill" bench/vnc.sh
#   LINK_MS=25 bench/vnc.sh             also the fill scene with Tight over a link with 25 ms added each way (50 ms
#                                       round trip), with continuous updates offered (LINK_MS=0 skips it)
#   LINK_KBIT=512 bench/vnc.sh          also the fill scene with Tight over that delayed link limited to 512 kbit/s each
#                                       way behind a 50 ms queue (LINK_KBIT=0 skips it; it needs LINK_MS > 0)
#   TYPE_MS=100 bench/vnc.sh            also a typing session: the fb guest's text echo line, a key typed every
#                                       100 ms, bytes per second and per key, ZRLE and Tight (TYPE_MS=0 skips it)
# Scenes (tests/guests/fb.c): fill flips between four pages of full-colour noise at 60 Hz (every pixel changes each
# flip, and flipping costs the guest nothing); scroll is a text console scrolled by copying the screen up one line
# (as fbcon does without panning) into the other page and flipping to it (flip=1), as fast as the guest can: under
# PVM the copy is emulated and takes about half a second, the same for both VMMs, so scroll fps is the guest's.
# The client (bench/vnc-client.cs) keeps one update request outstanding and counts updates and bytes; cpu/frame is
# the host CPU of the VMM's threads other than its vCPUs (where both VMMs encode), per update received. Over the
# delayed link the client also lists continuous updates and fences: a server that takes them pushes frames without a
# round trip each (ours); one that does not (QEMU) is driven by one request per frame, as before.
source "$(dirname "$0")/common.sh"
window=${SECONDS_:-10}
warmup=${WARMUP:-2}
encodings=${ENCODINGS:-"zrle tight"}
link_ms=${LINK_MS:-25}
link_kbit=${LINK_KBIT:-512}
type_ms=${TYPE_MS:-100}
scenes=${SCENES:-"fill scroll"}
mode=1024x768
build_all
dotnet build "$repo/bench/vnc-client.cs" -o "$repo/artifacts/vnc-client" -nologo -v quiet >/dev/null
client=("$repo/artifacts/vnc-client/vnc-client")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() { # FILE TEXT (WAIT_S, default 60: the guest draws the fill scene's pages emulated, slower on a busy host)
    for _ in $(seq $((${WAIT_S:-60} * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "bench: '$2' did not appear in $1:" >&2; cat "$1" >&2; return 1
}

# measure VMM SCENE ENCODINGS [DELAY_MS [TYPE_MS [RATE_KBIT]]] -> the client's line (SCENE type: the guest's key echo,
# no bench)
measure() {
    local which=$1 scene=$2 enc=$3 delay=${4:-0} typing=${5:-0} rate=${6:-0} port log pid
    port=$(free_port)
    while [ "$port" -lt 5900 ]; do port=$(free_port); done
    log=$(mktemp)
    local append="mode=$mode bench=$scene" started="fb: bench $scene START"
    [ "$scene" = fill ] && append="$append fps=60"
    [ "$scene" = scroll ] && append="$append flip=1"
    [ "$scene" = type ] && append="mode=$mode" started="READY"
    if [ "$which" = ours ]; then
        "$vmm" --kernel "$guests/fb.elf" --memory 64M --serial stdio --vnc "127.0.0.1:$port" --append "$append" >"$log" 2>&1 &
    else
        "$qemu" -M pc -accel kvm -m 64 -nodefaults -vga std -vnc "127.0.0.1:$((port - 5900))" -monitor none \
            -serial "file:$log" -no-reboot -kernel "$guests/fb.elf" -append "$append" 2>/dev/null &
    fi
    pid=$!
    wait_for "$log" "$started"
    [ "$scene" = fill ] && wait_for "$log" "flips"
    "${client[@]}" "127.0.0.1:$port" "$enc,copyrect,desktopsize" "$window" "$warmup" "$pid" "$delay" "$typing" "$rate"
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
    rm -f "$log"
}

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

printf '%-7s %-6s %-5s %8s %12s %14s %10s\n' scene enc vmm fps "bytes/frame" "cpu ms/frame" copyrects
for scene in $scenes; do
    for enc in $encodings; do
        ours=$(measure ours "$scene" "$enc")
        theirs=$(measure qemu "$scene" "$enc")
        for pair in "ours:$ours" "qemu:$theirs"; do
            line=${pair#*:}
            printf '%-7s %-6s %-5s %8s %12s %14s %10s\n' "$scene" "$enc" "${pair%%:*}" "$(field fps "$line")" \
                "$(field bytes_per_frame "$line")" "$(field cpu_ms_per_frame "$line")" "$(field copyrects "$line")"
        done
        printf '%-7s %-6s ratio ours/qemu: fps %s, bytes/frame %s, cpu/frame %s\n' "$scene" "$enc" \
            "$(ratio "$(field fps "$ours")" "$(field fps "$theirs")")" \
            "$(ratio "$(field bytes_per_frame "$ours")" "$(field bytes_per_frame "$theirs")")" \
            "$(ratio "$(field cpu_ms_per_frame "$ours")" "$(field cpu_ms_per_frame "$theirs")")"
    done
done

if [ "$link_ms" -gt 0 ]; then
    # A frame's age when it arrives is about the one-way delay plus the wait for it to be sent: with one request per
    # frame that wait is up to a round trip, with continuous updates none; 1000/fps is the interval between frames.
    ours=$(measure ours fill "tight,continuous" "$link_ms")
    theirs=$(measure qemu fill "tight,continuous" "$link_ms")
    printf '\nfill, Tight, %s ms added each way:\n%-5s %8s %12s %16s %11s\n' "$link_ms" vmm fps "bytes/frame" "frame interval ms" continuous
    for pair in "ours:$ours" "qemu:$theirs"; do
        line=${pair#*:}
        fps=$(field fps "$line")
        printf '%-5s %8s %12s %16s %11s\n' "${pair%%:*}" "$fps" "$(field bytes_per_frame "$line")" \
            "$(awk -v f="$fps" 'BEGIN { printf "%.1f", (f > 0 ? 1000 / f : 0) }')" "$(field continuous "$line")"
    done
    printf 'link ratio ours/qemu: frame interval %s\n' "$(ratio "$(field fps "$theirs")" "$(field fps "$ours")")"
    if [ "$link_kbit" -gt 0 ]; then
        # The same link with little bandwidth: full-screen noise cannot keep up, so what counts is how many frames
        # get through and how small each is (a server that queues frames the link cannot carry shows stale ones).
        ours=$(measure ours fill "tight,continuous" "$link_ms" 0 "$link_kbit")
        theirs=$(measure qemu fill "tight,continuous" "$link_ms" 0 "$link_kbit")
        printf '\nfill, Tight, %s ms added each way, %s kbit/s:\n%-5s %8s %12s %16s %14s\n' "$link_ms" "$link_kbit" vmm fps "bytes/frame" "frame interval ms" "bytes/second"
        for pair in "ours:$ours" "qemu:$theirs"; do
            line=${pair#*:}
            fps=$(field fps "$line")
            printf '%-5s %8s %12s %16s %14s\n' "${pair%%:*}" "$fps" "$(field bytes_per_frame "$line")" \
                "$(awk -v f="$fps" 'BEGIN { printf "%.1f", (f > 0 ? 1000 / f : 0) }')" "$(field bytes_per_second "$line")"
        done
        printf 'slow link ratio ours/qemu: frame interval %s, bytes/frame %s\n' "$(ratio "$(field fps "$theirs")" "$(field fps "$ours")")" \
            "$(ratio "$(field bytes_per_frame "$ours")" "$(field bytes_per_frame "$theirs")")"
    fi
fi

if [ "$type_ms" -gt 0 ]; then
    # A text console where someone types: one letter every TYPE_MS ms, echoed by the guest on its echo line (one 16x16
    # cell each). What matters is the bytes a slow link carries per second of typing.
    printf '\ntyping, a key every %s ms:\n%-6s %-5s %10s %14s %10s %8s\n' "$type_ms" enc vmm keys "bytes/second" "bytes/key" fps
    for enc in $encodings; do
        ours=$(measure ours type "$enc" 0 "$type_ms")
        theirs=$(measure qemu type "$enc" 0 "$type_ms")
        for pair in "ours:$ours" "qemu:$theirs"; do
            line=${pair#*:}
            keys=$(field keys "$line")
            printf '%-6s %-5s %10s %14s %10s %8s\n' "$enc" "${pair%%:*}" "$keys" "$(field bytes_per_second "$line")" \
                "$(awk -v b="$(field bytes "$line")" -v k="$keys" 'BEGIN { printf "%.0f", (k > 0 ? b / k : 0) }')" "$(field fps "$line")"
        done
        printf '%-6s ratio ours/qemu: bytes/second %s\n' "$enc" \
            "$(ratio "$(field bytes_per_second "$ours")" "$(field bytes_per_second "$theirs")")"
    done
fi
