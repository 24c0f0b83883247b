#!/usr/bin/env bash
# Runs deploy/slurm/nnft-server.sbatch as Slurm would, without Slurm: a
# stand-in `srun` on PATH records its flags and starts the worker under
# mpirun with --ntasks ranks. The server must come up, compute a job through
# its srun launcher (SUCCEEDED, every chunk computed), and drain on SIGTERM.
# Usage: slurm_server_test.sh <repo root> <bin dir> <mpirun>
set -euo pipefail
root="$1" bin="$2" mpirun="$3"
for b in nnft-server nnft nnft-mpi-worker; do
  [ -x "$bin/$b" ] || { echo "skip: $bin/$b is not built"; exit 77; }
done
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/bin"
cat > "$tmp/bin/srun" <<SH
#!/usr/bin/env bash
set -euo pipefail
echo "srun \$*" >> "$tmp/srun_args"
args=() np=1
for a in "\$@"; do
  case "\$a" in
    --ntasks=*) np="\${a#--ntasks=}" ;;
    --mpi=*|--cpu-bind=*|--cpus-per-task=*) ;;
    *) args+=("\$a") ;;
  esac
done
root_flag=""
[ "\$(id -u)" -eq 0 ] && root_flag="--allow-run-as-root"
exec "$mpirun" -np "\$np" --oversubscribe \$root_flag "\${args[@]}"
SH
chmod +x "$tmp/bin/srun"
cat > "$tmp/spec.json" <<'JSON'
{"architecture": {"mlp": {"inputDim": 2, "widths": [30],
                          "activation": "ACTIVATION_TANH"}},
 "points": [{"x": [0.1, 0.2]}, {"x": [-0.4, 0.3]}],
 "observables": {"orders": [2]},
 "sampling": {"seed": "5", "numNetworks": "600", "chunkSize": 100}}
JSON
cd "$tmp"
PATH="$tmp/bin:$PATH" SLURM_JOB_ID=43 SLURM_NTASKS=2 SLURM_CPUS_PER_TASK=1 \
  NNFT_SERVER="$bin/nnft-server" NNFT_MPI_WORKER="$bin/nnft-mpi-worker" \
  NNFT_PORT=0 NNFT_METRICS_PORT=0 \
  bash "$root/deploy/slurm/nnft-server.sbatch" "$tmp/data" > server.out 2> server.err &
server_pid=$!
for _ in $(seq 300); do grep -q '^listening' server.out && break; sleep 0.1; done
port=$(sed -n 's/^listening address=.*:\([0-9]*\)$/\1/p' server.out)
[ -n "$port" ] || { cat server.out server.err; echo "FAIL: the server did not start"; exit 1; }
fail=0
"$bin/nnft" --server "127.0.0.1:$port" submit spec.json --watch > watch.log 2>&1 ||
  { cat watch.log server.err; echo "FAIL: the job did not succeed"; fail=1; }
grep -q "SUCCEEDED 6/6 chunks (0 from store)" watch.log ||
  { cat watch.log; echo "FAIL: want 6 chunks computed"; fail=1; }
grep -q -- "--ntasks=2 --cpus-per-task=1" srun_args ||
  { cat srun_args; echo "FAIL: srun without the job's tasks and CPUs"; fail=1; }
grep -q -- "--mpi=pmix" srun_args || { echo "FAIL: srun without --mpi"; fail=1; }
grep -q -- "--stream" srun_args || { echo "FAIL: worker not in stream mode"; fail=1; }
kill -TERM "$server_pid"
wait "$server_pid" || { echo "FAIL: the server did not drain cleanly"; fail=1; }
server_pid=""
[ "$fail" -eq 0 ] && echo "ok: nnft-server.sbatch computed a job through srun on 2 ranks"
exit "$fail"
