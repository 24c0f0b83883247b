#!/usr/bin/env bash
# The README's test command: installs missing Debian packages, builds build/
# (Release) and runs the whole ordinary suite with CTest (GoogleTest
# binaries, end-to-end runs of the real binaries, the Python and Node clients
# against a real server). About 15 minutes on a fresh clone of a 2-core
# machine, most of it the build (docs/testing.md has the figures).
#
# The second stage, tests/sanitize.sh (ASan+UBSan suite, fuzzing, TSan), is a
# command of its own; .ci/run runs both. For the quick loop while editing:
#   ctest --test-dir build -L unit      # in-process tests, a minute or two
#   ctest --test-dir build -LE slow     # everything but the long Monte Carlo
# Environment: NNFT_BUILD_DIR (default build/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$SECONDS
bash "$root/deploy/install_deps.sh"
build="${NNFT_BUILD_DIR:-$root/build}"
jobs=$(nproc)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$jobs"
built=$SECONDS
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 900
echo "-- run_all: build $((built - start)) s, tests $((SECONDS - built)) s, total $((SECONDS - start)) s"
