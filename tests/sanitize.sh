#!/usr/bin/env bash
# Sanitizer and fuzzing stage, the second test command (after
# tests/run_all.sh; .ci/run runs both). Installs what it needs when missing:
#  1. the suite built with clang under AddressSanitizer +
#     UndefinedBehaviorSanitizer (every finding fatal) and run by CTest, all
#     but the `slow` Monte Carlo tests (NNFT_SLOW_TESTS=OFF: they check
#     statistics, which the Release suite does; the unit and end-to-end
#     tests run the same engine, estimator and theory code with fewer
#     networks);
#  2. the libFuzzer harnesses of tests/fuzz in a tree of their own (coverage
#     instrumentation, ASan+UBSan), each run from the seeds and committed
#     reproducers for a fixed seed and number of executions (about 60 s each;
#     NNFT_FUZZ_SECONDS caps the time);
#  3. the concurrency tests (store, job queue and runner, sweeps, launcher,
#     streaming service, client, auth) under ThreadSanitizer. Debian's Abseil
#     is not built with TSan, so absl::Mutex's annotations would be no-ops
#     and TSan would report races on data always used under its mutex;
#     tests/sanitize/tsan_abseil.sh builds Abseil's locking libraries from
#     Debian's source of the installed version with TSan, and the tests run
#     on them (gRPC's locks included). OpenMP's runtime is made visible to
#     TSan by LLVM's Archer tool (libomp-dev). What is still suppressed, and
#     why, is in tests/sanitize/tsan.supp.
# Build trees: build-asan/, build-fuzz/ and build-tsan/ beside build/
# (NNFT_SANITIZE_DIR to move them). Longer fuzzing:
# NNFT_FUZZ_SEED=0 NNFT_FUZZ_RUNS=-1 NNFT_FUZZ_SECONDS=3600 bash tests/sanitize.sh
# (random seed, an hour per harness), or build-fuzz/bin/fuzz_<name>
# by hand (see tests/fuzz/CMakeLists.txt). NNFT_SANITIZE_STAGES (default
# "asan fuzz tsan") runs a subset.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/deploy/install_deps.sh"
base="${NNFT_SANITIZE_DIR:-$root}"
jobs=$(nproc)
fuzz_seconds="${NNFT_FUZZ_SECONDS:-60}"
stages=" ${NNFT_SANITIZE_STAGES:-asan fuzz tsan} "
wants() { [[ "$stages" == *" $1 "* ]]; }
# Prints how long the stage just finished took (figures in README
# "Reliability").
stage_start=$SECONDS
stage_done() {
  echo "-- sanitize: $1 took $((SECONDS - stage_start)) s"
  stage_start=$SECONDS
}
export CC=clang CXX=clang++
# -O2 keeps the Monte-Carlo loops as fast as instrumented code gets (at -O1
# the suite runs tens of times slower than Release); -gline-tables-only gives
# reports file:line for every frame at a fraction of -g's compile and link
# time.
optimised=(-DCMAKE_BUILD_TYPE=RelWithDebInfo
           "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -gline-tables-only"
           "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -gline-tables-only")
lean=(-DCMAKE_BUILD_TYPE=RelWithDebInfo
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only"
      "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only")
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitize/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

if wants asan; then
echo "== sanitize: AddressSanitizer + UndefinedBehaviorSanitizer"
asan="$base/build-asan"
cmake -S "$root" -B "$asan" "${optimised[@]}" \
  -DNNFT_SANITIZE=address,undefined -DNNFT_FUZZ=OFF -DNNFT_SLOW_TESTS=OFF
cmake --build "$asan" -j"$jobs"
stage_done "ASan+UBSan build"
ctest --test-dir "$asan" --output-on-failure -j"$jobs" --timeout 1800
stage_done "ASan+UBSan test suite"
fi

if wants fuzz; then
echo "== sanitize: fuzzing, seed ${NNFT_FUZZ_SEED:-1}, at most ${fuzz_seconds} s per harness"
fuzz="$base/build-fuzz"
harnesses=(spec_json spec_proto digest chunk)
# A fixed seed and a fixed number of executions per harness (about a minute
# each on this project's 2-core machine; NNFT_FUZZ_SECONDS caps the time).
# The seed fixes the mutations, not the whole path (the file system's order
# of equal-sized corpus files and per-process hash seeds vary by machine),
# so another machine may reach an input this one did not: any failure is a
# real fault, its input kept in build-fuzz/fuzz-artifacts/. Open-ended
# search: NNFT_FUZZ_SEED=0 (random) with larger NNFT_FUZZ_RUNS, or the
# binaries by hand.
fuzz_seed="${NNFT_FUZZ_SEED:-1}"
declare -A fuzz_runs=([spec_json]=100000 [spec_proto]=250000
                      [digest]=300000 [chunk]=4000000)
if [ -n "${NNFT_FUZZ_RUNS:-}" ]; then
  for h in "${harnesses[@]}"; do fuzz_runs[$h]=$NNFT_FUZZ_RUNS; done
fi
cmake -S "$root" -B "$fuzz" "${lean[@]}" \
  -DNNFT_SANITIZE=address,undefined -DNNFT_FUZZ=ON
cmake --build "$fuzz" -j"$jobs" --target fuzz_make_corpus \
  "${harnesses[@]/#/fuzz_}"
stage_done "fuzz build"
seeds="$fuzz/fuzz-seeds"
"$fuzz/bin/fuzz_make_corpus" "$seeds" "$root"/deploy/examples/*.json
# One harness per core at a time: each still fuzzes for its full time.
fuzz_one() {
  local h=$1 corpus="$fuzz/fuzz-corpus/$1" extra=()
  mkdir -p "$corpus" "$fuzz/fuzz-artifacts"
  rm -f "$fuzz/fuzz-artifacts/$h-"*  # this run's findings only
  [ -d "$root/tests/fuzz/corpus/$h" ] && extra+=("$root/tests/fuzz/corpus/$h")
  "$fuzz/bin/fuzz_$h" -seed="$fuzz_seed" -runs="${fuzz_runs[$h]}" \
    -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$fuzz/fuzz-artifacts/$h-" \
    "$corpus" "$seeds/$h" "${extra[@]}" 2>"$fuzz/fuzz-$h.log"
}
declare -A status=()
for ((i = 0; i < ${#harnesses[@]}; i += jobs)); do
  batch=("${harnesses[@]:i:jobs}")
  pids=()
  for h in "${batch[@]}"; do fuzz_one "$h" & pids+=($!); done
  for k in "${!batch[@]}"; do
    rc=0; wait "${pids[$k]}" || rc=$?
    status[${batch[$k]}]=$rc
  done
done
failed=0
for h in "${harnesses[@]}"; do
  if [ "${status[$h]}" != 0 ]; then
    tail -40 "$fuzz/fuzz-$h.log"; echo "fuzz_$h FAILED"; failed=1
    # The failing input in the log too (base64, first 8 KiB), so a run whose
    # tree is gone still yields a reproducer for tests/fuzz/corpus/.
    for a in "$fuzz/fuzz-artifacts/$h-"*; do
      [ -f "$a" ] || continue
      echo "input $(basename "$a") ($(stat -c %s "$a") bytes, base64):"
      head -c 8192 "$a" | base64
    done
    continue
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$fuzz/fuzz-$h.log" |
         grep -o '[0-9]*$')
  secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$fuzz/fuzz-$h.log" |
         grep -o 'in [0-9]*' | grep -o '[0-9]*')
  echo "fuzz_$h: $runs executions in ${secs:-?} s (seed $fuzz_seed), no failure"
done
[ "$failed" = 0 ] || exit 1
stage_done "fuzzing"
fi

if wants tsan; then
echo "== sanitize: ThreadSanitizer (concurrency tests)"
tsan="$base/build-tsan"
concurrency=(tsan_canary store_test job_manager_test job_sweep_test launcher_test
             service_test client_test auth_test)
bash "$root/tests/sanitize/tsan_abseil.sh" "$tsan/absl-tsan"
cmake -S "$root" -B "$tsan" "${lean[@]}" -DNNFT_SANITIZE=thread \
  -DNNFT_FUZZ=OFF
cmake --build "$tsan" -j"$jobs" --target "${concurrency[@]}"
stage_done "TSan build"
# ignore_noninstrumented_modules: memcpy/memset called inside gRPC's or
# protobuf's uninstrumented code are not checked (their ordering is
# invisible); every access made by nnft's code is.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$root/tests/sanitize/tsan.supp"
export LD_LIBRARY_PATH="$tsan/absl-tsan/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
archer=$(ls /usr/lib/llvm-*/lib/libarcher.so 2>/dev/null | sort -V | tail -1)
[ -n "$archer" ] || { echo "sanitize: libarcher.so (libomp-dev) not found"; exit 1; }
export OMP_TOOL_LIBRARIES="$archer"
# tsan_canary's two tests check that TSan reports an unlocked race and
# stays silent on absl::Mutex-ordered code (tests/sanitize/tsan_canary.cc).
regex="^($(IFS='|'; echo "${concurrency[*]}"))\$|^tsan_canary_"
ctest --test-dir "$tsan" --output-on-failure -j"$jobs" --timeout 1800 -R "$regex"
stage_done "TSan tests"
fi
echo "== sanitize: all passed"
