#!/usr/bin/env bash
# The W1 workload (tests/bench/w1.json) through nnft-server: computed in
# process on 2 threads, and through the MPI launcher on 1 and 2 ranks of 1
# thread (--mpi_launcher 'mpirun -np {ranks} ... {worker} {args}'), each on a
# fresh data directory, timed from submission to SUCCEEDED by
# `nnft submit --watch`; beside them the bare worker under mpirun on the same
# rank counts (tests/bench/mpi_bench.sh's run, stream mode off). Prints one
# JSON line:
#   server_inprocess_s, server_launcher_{1,2}ranks_s, worker_{1,2}ranks_s
#   launcher_overhead_{1,2}ranks_s  server through the launcher minus the
#                                   bare worker (spec file, process start,
#                                   streaming, storing, folding, watching)
#   launcher_speedup                1 rank / 2 ranks through the server
#   bits_equal                      the three servers' results (CSV) agree
# Usage: tests/bench/launcher_bench.sh [build dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$root/build}"
spec="$root/tests/bench/w1.json"
for b in nnft-server nnft nnft-mpi-worker; do
  [ -x "$build/bin/$b" ] || { echo "launcher_bench: $build/bin/$b is not built" >&2; exit 1; }
done
mpirun=$(command -v mpirun) || { echo "launcher_bench: no mpirun" >&2; exit 1; }
root_flag=""
[ "$(id -u)" -eq 0 ] && root_flag="--allow-run-as-root"
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

now() { date +%s.%N; }

# run_server NAME ARGS...: W1 through a fresh server; seconds on stdout.
run_server() {
  local name="$1"; shift
  "$build/bin/nnft-server" --listen=127.0.0.1:0 --data_dir="$tmp/$name" "$@" \
    > "$tmp/$name.out" 2> "$tmp/$name.err" &
  server_pid=$!
  for _ in $(seq 100); do grep -q listening "$tmp/$name.out" && break; sleep 0.1; done
  local addr; addr=$(sed -n 's/^listening address=//p' "$tmp/$name.out")
  local start end
  start=$(now)
  "$build/bin/nnft" --server "$addr" submit "$spec" --watch > "$tmp/$name.watch" 2>&1
  end=$(now)
  local job; job=$(sed -n 's/^submitted \(jobs\/[0-9a-f]*\).*/\1/p' "$tmp/$name.watch")
  "$build/bin/nnft" --server "$addr" result "$job" --format csv > "$tmp/$name.csv"
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
  echo "$start $end"
}

launcher="$mpirun -np {ranks} --oversubscribe $root_flag {worker} {args}"
inproc=$(run_server inproc --worker_threads=2)
l1=$(run_server l1 --worker_threads=1 --mpi_launcher="$launcher" --mpi_ranks=1)
l2=$(run_server l2 --worker_threads=1 --mpi_launcher="$launcher" --mpi_ranks=2)
for ranks in 1 2; do
  start=$(now)
  "$mpirun" -np "$ranks" --oversubscribe $root_flag "$build/bin/nnft-mpi-worker" \
    --spec="$spec" --threads=1 --progress=false --out="$tmp/w$ranks.json"
  end=$(now)
  echo "$start $end" > "$tmp/w$ranks.s"
done
w1=$(cat "$tmp/w1.s"); w2=$(cat "$tmp/w2.s")
equal=false
[ -s "$tmp/inproc.csv" ] && cmp -s "$tmp/inproc.csv" "$tmp/l1.csv" && cmp -s "$tmp/inproc.csv" "$tmp/l2.csv" && equal=true
/usr/bin/python3 - "$inproc" "$l1" "$l2" "$w1" "$w2" "$equal" "$(nproc)" \
  "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
def span(text):
    start, end = map(float, text.split())
    return end - start
inproc, l1, l2, w1, w2 = map(span, sys.argv[1:6])
print(json.dumps({
    "bench": "launcher", "workload": "W1 float32, 100 chunks of 1000",
    "cpus": int(sys.argv[7]), "loadavg_after": float(sys.argv[8]),
    "server_inprocess_s": round(inproc, 3),
    "server_launcher_1rank_s": round(l1, 3), "server_launcher_2ranks_s": round(l2, 3),
    "worker_1rank_s": round(w1, 3), "worker_2ranks_s": round(w2, 3),
    "launcher_overhead_1rank_s": round(l1 - w1, 3),
    "launcher_overhead_2ranks_s": round(l2 - w2, 3),
    "launcher_speedup": round(l1 / l2, 3),
    "bits_equal": sys.argv[6] == "true",
}))
PY
