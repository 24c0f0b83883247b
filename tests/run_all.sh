#!/usr/bin/env bash
# The README's test command: installs missing Debian packages, builds
# everything, and runs every test (CTest: GoogleTest binaries, end-to-end
# tests with the real binaries, other-language clients).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/deploy/install_deps.sh"
build="${NNFT_BUILD_DIR:-$root/build}"
jobs=$(nproc)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 900
