#!/usr/bin/env bash
# Sanitizer and fuzzing stage of the README's test command (tests/run_all.sh
# calls it after the ordinary suite):
#  1. the whole suite built with clang under AddressSanitizer +
#     UndefinedBehaviorSanitizer (every finding fatal) and run by CTest;
#  2. the libFuzzer harnesses of tests/fuzz, built in the same tree, each run
#     for NNFT_FUZZ_SECONDS (default 60) from fresh seeds;
#  3. the concurrency tests (job queue, store, streaming service, job
#     manager) built under ThreadSanitizer and run.
# Build trees: build-asan/ and build-tsan/ beside build/ (NNFT_SANITIZE_DIR
# to move them). Longer fuzzing: NNFT_FUZZ_SECONDS=3600 bash tests/sanitize.sh
# (or run build-asan/bin/fuzz_<name> by hand; see tests/fuzz/CMakeLists.txt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base="${NNFT_SANITIZE_DIR:-$root}"
jobs=$(nproc)
fuzz_seconds="${NNFT_FUZZ_SECONDS:-60}"
# Prints how long the stage just finished took (figures in README
# "Reliability").
stage_start=$SECONDS
stage_done() {
  echo "-- sanitize: $1 took $((SECONDS - stage_start)) s"
  stage_start=$SECONDS
}
export CC=clang CXX=clang++
# Lean sanitizer trees: -O1 -g (fast to build, still readable stacks).
lean=(-DCMAKE_BUILD_TYPE=RelWithDebInfo
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
      "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g")

echo "== sanitize: AddressSanitizer + UndefinedBehaviorSanitizer"
asan="$base/build-asan"
cmake -S "$root" -B "$asan" "${lean[@]}" \
  -DNNFT_SANITIZE=address,undefined -DNNFT_FUZZ=ON
cmake --build "$asan" -j"$jobs"
stage_done "ASan+UBSan build"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitize/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir "$asan" --output-on-failure -j"$jobs" --timeout 1800
stage_done "ASan+UBSan test suite"

echo "== sanitize: fuzzing, ${fuzz_seconds} s per harness"
seeds="$asan/fuzz-seeds"
"$asan/bin/fuzz_make_corpus" "$seeds" "$root"/deploy/examples/*.json
for h in spec_json spec_proto digest chunk; do
  corpus="$asan/fuzz-corpus/$h"
  mkdir -p "$corpus" "$asan/fuzz-artifacts"
  extra=()
  [ -d "$root/tests/fuzz/corpus/$h" ] && extra+=("$root/tests/fuzz/corpus/$h")
  "$asan/bin/fuzz_$h" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$asan/fuzz-artifacts/$h-" \
    "$corpus" "$seeds/$h" "${extra[@]}" 2>"$asan/fuzz-$h.log" || {
      tail -40 "$asan/fuzz-$h.log"; echo "fuzz_$h FAILED"; exit 1; }
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$asan/fuzz-$h.log" |
         grep -o '[0-9]*$')
  echo "fuzz_$h: $runs executions in ${fuzz_seconds} s, no failure"
done
stage_done "fuzzing"

echo "== sanitize: ThreadSanitizer (concurrency tests)"
tsan="$base/build-tsan"
concurrency=(store_test job_manager_test service_test)
cmake -S "$root" -B "$tsan" "${lean[@]}" -DNNFT_SANITIZE=thread
cmake --build "$tsan" -j"$jobs" --target "${concurrency[@]}"
stage_done "TSan build"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitize/tsan.supp"
regex=$(IFS='|'; echo "^(${concurrency[*]})\$")
ctest --test-dir "$tsan" --output-on-failure -j"$jobs" --timeout 1800 -R "$regex"
stage_done "TSan tests"
echo "== sanitize: all passed"
