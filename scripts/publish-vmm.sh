#!/usr/bin/env bash
# Publishes platform-vmm NativeAOT into artifacts/vmm/ — the binary the dashboard launches, the process-level tests
# run and the benchmarks measure — when any of its inputs is newer than the last publish. With nothing changed it
# only compares timestamps (a few milliseconds), so `./platform run` and `./platform test` call it every time.
#   scripts/publish-vmm.sh [--force]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$repo/artifacts/vmm
binary=$out/platform-vmm

# What the VMM is built from: its own sources, the engine, the devices, the contracts it shares with the dashboard,
# and the build settings every project shares.
inputs=("$repo/src/Engine" "$repo/src/Devices" "$repo/src/Contracts"
        "$repo/Directory.Build.props" "$repo/Directory.Packages.props" "$repo/global.json")

stale() {
    [ "${1:-}" = --force ] && return 0
    [ -x "$binary" ] || return 0
    local existing=()
    for path in "${inputs[@]}"; do [ -e "$path" ] && existing+=("$path"); done
    # Only source files count: bin/ and obj/ change on every build of the solution.
    [ -n "$(find "${existing[@]}" \( -name bin -o -name obj \) -prune -o \
        \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.json' \) \
        -newer "$binary" -print -quit)" ]
}

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
