#!/usr/bin/env bash
# MPI speed-up and merge overhead of nnft-mpi-worker on one machine: the W1
# workload (tests/bench/w1.json: single hidden layer erf, d=1, N=1000, P=6,
# G2+G4, 10^5 networks, chunks of 1000) on 1 rank and on 2 ranks, 1 thread
# each. Prints one JSON line:
#   wall_1rank_s, wall_2ranks_s  worker wall time (MPI_Init to last fold;
#                                best of NNFT_BENCH_REPEATS runs), and the
#   launch_*_s                   same runs timed around mpirun
#   speedup, efficiency          wall_1rank / wall_2ranks, speedup / 2
#   speedup_after_startup        the same without MPI_Init and spec setup
#   merge_s, merge_fraction      rank 0 receiving + folding chunks (2 ranks),
#                                and its share of the 2-rank wall time
#   fold_s, receive_s, wait_s    its parts, and rank 0 idle waiting for rank 1
#   rank_compute_s, rank_compute_cpu_s  each rank's compute wall and CPU
#                                seconds (2 ranks): CPU well below wall means
#                                the ranks were starved by other work
#   bits_equal                   chunk and estimate hashes agree across runs
# Usage: tests/bench/mpi_bench.sh [build dir] [spec.json]
# Environment: NNFT_BENCH_REPEATS (default 1), NNFT_BENCH_MPIRUN_ARGS (extra
# mpirun flags, e.g. "--bind-to none" on a machine shared with other work).
# Ranks share the machine with whatever else runs: read figures beside "cpus"
# and "loadavg_before".
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$root/build}"
spec="${2:-$root/tests/bench/w1.json}"
repeats="${NNFT_BENCH_REPEATS:-1}"
worker="$build/bin/nnft-mpi-worker"
[ -x "$worker" ] || { echo "mpi_bench: $worker is not built" >&2; exit 1; }
mpirun=$(command -v mpirun) || { echo "mpi_bench: no mpirun" >&2; exit 1; }
root_flag=""
[ "$(id -u)" -eq 0 ] && root_flag="--allow-run-as-root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
loadavg=$(cut -d' ' -f1 /proc/loadavg)

for ranks in 1 2; do
  for rep in $(seq 1 "$repeats"); do
    out="$tmp/r${ranks}_${rep}.json"
    start=$(date +%s.%N)
    # shellcheck disable=SC2086  # NNFT_BENCH_MPIRUN_ARGS is a word list
    "$mpirun" -np "$ranks" --oversubscribe $root_flag ${NNFT_BENCH_MPIRUN_ARGS:-} "$worker" \
      --spec="$spec" --threads=1 --progress=false --out="$out"
    end=$(date +%s.%N)
    echo "$start $end" > "$out.launch"
  done
done

/usr/bin/python3 - "$tmp" "$repeats" "$(nproc)" "$loadavg" <<'PY'
import json, sys
tmp, repeats, cpus, load = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def runs(ranks):
    out = []
    for rep in range(1, repeats + 1):
        path = f"{tmp}/r{ranks}_{rep}.json"
        result = json.load(open(path))
        start, end = map(float, open(path + ".launch").read().split())
        out.append((result, end - start))
    return out
one, two = runs(1), runs(2)
best1 = min(one, key=lambda r: r[0]["timing"]["wall_s"])
best2 = min(two, key=lambda r: r[0]["timing"]["wall_s"])
t2 = best2[0]["timing"]
hashes = {(r["chunk_hash"], r["estimate_hash"]) for r, _ in one + two}
wall1, wall2 = best1[0]["timing"]["wall_s"], t2["wall_s"]
print(json.dumps({
    "bench": "mpi_worker", "spec_networks": best1[0]["networks"],
    "chunks": best1[0]["chunks"], "threads_per_rank": 1, "repeats": repeats,
    "cpus": cpus, "loadavg_before": float(load),
    "wall_1rank_s": round(wall1, 3), "wall_2ranks_s": round(wall2, 3),
    "launch_1rank_s": round(best1[1], 3), "launch_2ranks_s": round(best2[1], 3),
    "speedup": round(wall1 / wall2, 3), "efficiency": round(wall1 / wall2 / 2, 3),
    "startup_1rank_s": round(best1[0]["timing"]["startup_s"], 3),
    "startup_2ranks_s": round(t2["startup_s"], 3),
    "speedup_after_startup": round(
        (wall1 - best1[0]["timing"]["startup_s"]) / (wall2 - t2["startup_s"]), 3),
    "merge_s": round(t2["merge_s"], 6),
    "merge_fraction": round(t2["merge_s"] / wall2, 6),
    "fold_s": round(t2["fold_s"], 6), "receive_s": round(t2["receive_s"], 6),
    "wait_s": round(t2["wait_s"], 3),
    "rank_compute_s": [round(x, 3) for x in t2["rank_compute_s"]],
    "rank_compute_cpu_s": [round(x, 3) for x in t2["rank_compute_cpu_s"]],
    "compute_cpu_1rank_s": round(best1[0]["timing"]["rank_compute_cpu_s"][0], 3),
    "bits_equal": len(hashes) == 1,
}))
PY
