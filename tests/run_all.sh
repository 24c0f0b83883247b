#!/usr/bin/env bash
# The README's test command: installs missing Debian packages, builds
# everything, and runs every test (CTest: GoogleTest binaries, end-to-end
# tests with the real binaries, other-language clients), then the sanitizer
# and fuzzing stage (tests/sanitize.sh: the whole suite under ASan+UBSan,
# 60 s of fuzzing per harness, the concurrency tests under TSan).
# NNFT_SKIP_SANITIZE=1 stops after the ordinary suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/deploy/install_deps.sh"
build="${NNFT_BUILD_DIR:-$root/build}"
jobs=$(nproc)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 900
if [ "${NNFT_SKIP_SANITIZE:-0}" != 1 ]; then
  bash "$root/tests/sanitize.sh"
fi
