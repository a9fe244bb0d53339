#!/usr/bin/env bash
# Publishes platform-vmm NativeAOT into artifacts/vmm/ — the binary the dashboard launches, the process-level tests
# run and the benchmarks measure — when any of its inputs is newer than the last publish. With nothing changed it
# only compares timestamps (a few milliseconds), so `./platform run` and `./platform test` call it every time.
#   scripts/publish-vmm.sh [--force | --check]
# --check publishes nothing: it prints the first input newer than the publish and exits 1 when stale, 0 when current.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$repo/artifacts/vmm
binary=$out/platform-vmm

# What the VMM is built from: one list (scripts/vmm-inputs) that the dashboard and the tests read too.
read -ra inputs <<<"$(sed -n 's/^paths: //p' "$repo/scripts/vmm-inputs")"
read -ra names <<<"$(sed -n 's/^names: //p' "$repo/scripts/vmm-inputs")"

# The first input (relative to the checkout) changed since the last publish; empty when there is none.
newer_input() {
    local existing=() patterns=() path name
    for path in "${inputs[@]}"; do [ -e "$repo/$path" ] && existing+=("$repo/$path"); done
    for name in "${names[@]}"; do patterns+=(${patterns[0]+-o} -name "$name"); done
    [ ${#existing[@]} -gt 0 ] || return 0
    local found
    found=$(find "${existing[@]}" \( -name bin -o -name obj \) -prune -o \( "${patterns[@]}" \) -newer "$binary" -print -quit)
    echo "${found#"$repo"/}"
}

stale() {
    [ "${1:-}" = --force ] && return 0
    [ -x "$binary" ] || return 0
    [ -n "$(newer_input)" ]
}

if [ "${1:-}" = --check ]; then
    [ -x "$binary" ] || { echo "artifacts/vmm/platform-vmm is missing"; exit 1; }
    newer=$(newer_input)
    [ -z "$newer" ] || { echo "$newer"; exit 1; }
    exit 0
fi

if stale "${1:-}"; then
    echo "platform: publishing platform-vmm (NativeAOT) into artifacts/vmm" >&2
    started=$SECONDS
    # -p:SatelliteResourceLanguages keeps the folder to the binary; the .dbg file holds its symbols for gdb.
    dotnet publish "$repo/src/Engine/Vmm/Vmm.csproj" -c Release -r linux-x64 -o "$out" -nologo -v quiet -clp:ErrorsOnly \
        || { echo "platform: error: the NativeAOT publish of platform-vmm failed (it needs clang and zlib1g-dev)" >&2; exit 1; }
    # The publish keeps the binary's old time when its bytes did not change; the stamp is the time of this check.
    touch "$binary"
    echo "platform: published platform-vmm in $((SECONDS - started)) s" >&2
fi
