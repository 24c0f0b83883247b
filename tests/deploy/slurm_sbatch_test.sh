#!/usr/bin/env bash
# Runs deploy/slurm/nnft-mpi.sbatch as Slurm would, without Slurm: a stand-in
# `srun` on PATH checks the flags the script passes and starts the same
# command under mpirun with SLURM_NTASKS ranks. Passes when the result JSON
# comes out with 2 ranks and every chunk folded.
# Usage: slurm_sbatch_test.sh <repo root> <nnft-mpi-worker> <mpirun>
set -euo pipefail
root="$1" worker="$2" mpirun="$3"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
cat > "$tmp/bin/srun" <<SH
#!/usr/bin/env bash
set -euo pipefail
echo "srun \$*" > "$tmp/srun_args"
args=()
for a in "\$@"; do
  case "\$a" in --mpi=*|--cpu-bind=*) ;; *) args+=("\$a") ;; esac
done
root_flag=""
[ "\$(id -u)" -eq 0 ] && root_flag="--allow-run-as-root"
exec "$mpirun" -np "\$SLURM_NTASKS" --oversubscribe \$root_flag "\${args[@]}"
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
PATH="$tmp/bin:$PATH" SLURM_JOB_ID=42 SLURM_NTASKS=2 SLURM_CPUS_PER_TASK=1 \
  NNFT_MPI_WORKER="$worker" \
  bash "$root/deploy/slurm/nnft-mpi.sbatch" spec.json > sbatch.log 2>&1 ||
  { cat sbatch.log; echo "FAIL: the sbatch script failed"; exit 1; }
fail=0
grep -q -- "--mpi=pmix" srun_args || { echo "FAIL: srun without --mpi"; fail=1; }
grep -q -- "--threads=1" srun_args || { echo "FAIL: --threads not from SLURM_CPUS_PER_TASK"; fail=1; }
/usr/bin/python3 - nnft-result-42.json <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
ok = r["ranks"] == 2 and r["chunks"] == 6 and r["networks"] == 600
print("result:", {k: r[k] for k in ("ranks", "chunks", "networks", "chunk_hash")})
if not ok:
    print("FAIL: want 2 ranks, 6 chunks, 600 networks")
sys.exit(0 if ok else 1)
PY
[ "$fail" -eq 0 ] && echo "ok: sbatch script ran on 2 ranks"
exit "$fail"
