#!/usr/bin/env bash
# History with 200 VMs (issue 18): how long one VM's Summary charts take to be served (read + JSON, per range) and
# rendered (MudBlazor's charts in bUnit: first render and each range button), and the CPU that sampling 200 VMs and the
# host every 10 s costs (the sampling thread's CPU time from /proc/thread-self/schedstat, fsync each minute included).
# Each VM has a full year of history (a 1.94 MiB file each). The run is HistoryBenchmarkTests in tests/Web.Tests, which
# also fails past 300 ms or 1 % of a core. No QEMU peer: QEMU keeps no history.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
dotnet build "$repo/tests/Web.Tests" -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
PLATFORM_BENCH_OUT="$out" dotnet test --project "$repo/tests/Web.Tests" -c Release --no-build -- \
    --filter-class "*HistoryBenchmarkTests" >/dev/null
cat "$out"
