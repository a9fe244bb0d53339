#!/usr/bin/env bash
# A host with many VMs, as a user drives the dashboard (issue 22's figures):
#   - the VM list with 200 VMs (PLATFORM_MANY_VMS=1000 for the "stays usable" case): navigation to the circuit
#     rendering the list's first row, in Debian's Chromium through Playwright, and how many rows the page holds;
#   - 50 echo-guest VMs (64 MiB, display on) started through the API at once: when all answered, when all were
#     Running, and when the 1st/10th/40th/last reached Running (later starts must not slow down).
# It runs the E2E test ManyVmsTests, which asserts the behaviour only and reports the times (a timed test on a
# loaded, shared host fails for the host's reasons). The dashboard runs in the test's process and launches the
# NativeAOT platform-vmm, as ./platform run does. No QEMU peer: QEMU has no dashboard.
#
# Needs the solution built (./platform setup, or dotnet build Platform.sln -c Release). Extra arguments go to the
# test runner.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
make -s -C "$repo/tests/guests"
bash "$repo/scripts/publish-vmm.sh"

artifacts=$(mktemp -d)
trap 'rm -rf "$artifacts"' EXIT
log=$artifacts/test.log
status=0
PLATFORM_ARTIFACTS=$artifacts dotnet test --project "$repo/tests/E2E.Tests" -c Release --no-build -- \
    --filter-class "*ManyVmsTests" "$@" >"$log" 2>&1 || status=$?
if [ -s "$artifacts/many-vms.txt" ]; then
    cat "$artifacts/many-vms.txt"
else
    tail -n 40 "$log" >&2
    echo "bench: the test reported no figure (exit code $status)" >&2
    exit 1
fi
[ "$status" -eq 0 ] || tail -n 40 "$log" >&2
exit "$status"
