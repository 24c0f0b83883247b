#!/usr/bin/env bash
# Every benchmark of tests/bench in one pass, for the README's figures: each
# tool prints its own JSON line(s); this script adds the machine's load before
# each, so a figure taken on a busy machine is recognisable. Needs a Release
# build (`cmake --build build`; the tools themselves are built here, target
# `benchmarks`), and for the PyTorch baselines Debian's
# python3-torch (they print "skipped" without it) on OpenBLAS
# (libopenblas0-pthread; the reference BLAS is not an honest peer).
#   bash tests/bench/run_benches.sh [build dir] > bench.log
# NNFT_BENCH_ONLY="engine train ..." runs a subset (names below).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$root/build}"
bin="$build/bin"
py=/usr/bin/python3
only="${NNFT_BENCH_ONLY:-engine service sweep reweight attention train theory load mpi launcher}"

stage() {
  echo "== $1 (loadavg $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cpus, $(date -u +%H:%M:%S))"
}
want() { [[ " $only " == *" $1 "* ]]; }
cmake --build "$build" --target benchmarks -j"$(nproc)" >&2 || exit 1

if want engine; then
  stage "engine W1"
  for p in float32 float64; do
    "$bin/nnft-bench" --workload=W1 --threads=2 --precision=$p
    OPENBLAS_NUM_THREADS=1 "$py" "$root/tests/bench/torch_baseline.py" --precision=$p --networks=100000
  done
  "$bin/nnft-bench" --workload=W1 --threads=2 --precision=float32 --integrate=true
fi
if want service; then
  stage "service"
  "$bin/nnft-service-bench"
fi
if want sweep; then
  stage "width sweep of 8 widths against 8 experiments"
  "$bin/nnft-sweep-bench" --repeats=3
fi
if want reweight; then
  stage "phi^4 reweighting overhead"
  "$bin/nnft-reweight-bench" 20000 2
fi
if want attention; then
  stage "attention kernel by the Gauss-chi rule (P=8, T=4, D=2, e=2)"
  "$bin/nnft-attention-kernel-bench" 8 4 2 2 12 3
fi
if want train; then
  stage "training T1"
  "$bin/nnft-train-bench" --threads=2
  OPENBLAS_NUM_THREADS=1 "$py" "$root/tests/bench/torch_train_baseline.py" --networks=256 --steps=20
fi
if want theory; then
  stage "theory: softplus kernel P = 200, tanh/ReLU vertex P = 16"
  "$bin/nnft-theory-bench" --threads=1,2
fi
if want load; then
  stage "load: 200 clients for 10 s"
  "$bin/nnft-load" --clients=200 --seconds=10
fi
if want mpi; then
  stage "MPI worker, 1 and 2 ranks"
  bash "$root/tests/bench/mpi_bench.sh" "$build"
fi
if want launcher; then
  stage "MPI launcher through the server"
  bash "$root/tests/bench/launcher_bench.sh" "$build"
fi
stage "done"
