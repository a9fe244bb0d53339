#!/usr/bin/env bash
# Start button → "running" on the VM's page, in a real browser (Debian's Chromium through Playwright), for the echo
# test guest (64 MiB, no display): the E2E test StartToRunningTimingTests starts and stops the VM 5 times on its page
# and reports the median and every sample, timed in the browser (the click event to the MutationObserver that sees
# the state chip say "running") and by Playwright (a Stopwatch around ClickAsync and a 10 ms WaitForFunction), and
# each round split where the supervisor published Starting and Running (one wall clock: the dashboard runs in the
# test's process, Chromium on the same host). The test never fails on the time; this prints it.
#
# Needs the solution built (./platform setup, or dotnet build Platform.sln -c Release); publishes platform-vmm and
# builds the test guests when they are stale, as the other benchmarks do. No QEMU peer: the dashboard has none.
# Extra arguments go to the test runner.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
make -s -C "$repo/tests/guests"
bash "$repo/scripts/publish-vmm.sh"

# --output detailed makes dotnet test print a passed test's output; the test also writes it to start-to-running.txt
# under PLATFORM_ARTIFACTS.
artifacts=$(mktemp -d)
trap 'rm -rf "$artifacts"' EXIT
log=$artifacts/test.log
status=0
PLATFORM_ARTIFACTS=$artifacts dotnet test --project "$repo/tests/E2E.Tests" -c Release --no-build --output detailed -- \
    --filter-method "*Start_reaches_running*" "$@" >"$log" 2>&1 || status=$?
if grep -q '^ *start-to-running' "$log"; then
    grep '^ *start-to-running\|^ *[0-9.-]\+  [0-9.-]\+  [0-9.-]\+$' "$log" | sed 's/^ \{4\}//'
elif [ -s "$artifacts/start-to-running.txt" ]; then
    cat "$artifacts/start-to-running.txt"
else
    tail -n 40 "$log" >&2
    echo "bench: the test reported no figure (exit code $status)" >&2
    exit 1
fi
exit "$status"
