#!/usr/bin/env bash
# nnft demo, the README's first command: `bash deploy/demo.sh` from the repo
# root on a fresh Debian machine. It installs what is missing, builds the
# server and the CLI into build/, starts build/bin/nnft-server on its
# embedded store (data directory $NNFT_DATA_DIR, default ./nnft-data) on a
# free port, and sweeps the width N of a single-hidden-layer erf net:
# for each N it submits deploy/examples/erf_width_sweep.json with that width
# through the `nnft` CLI, then prints
#   G2(x1,x2) +- err        beside the NNGP kernel K(x1,x2) (infinite width;
#                           for one hidden layer G2 = K at every width)
#   N*G4_c(x1,x1,x2,x2) +- err beside N times its exact finite-width value
# with their z-scores. Every number comes from the server's result
# (`nnft result --format csv`); this script only multiplies by N to show that
# G4_c falls like 1/N. Finally it stops the server with SIGTERM.
#
# Environment: NNFT_DATA_DIR (store directory), NNFT_BUILD_DIR (default
# build), NNFT_DEMO_WIDTHS (default "8 16 32 64 128 256 512"),
# NNFT_DEMO_SKIP_DEPS=1 (skip install_deps.sh), NNFT_DEMO_SKIP_BUILD=1 (use
# the binaries already in $NNFT_BUILD_DIR/bin).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build="${NNFT_BUILD_DIR:-$root/build}"
data_dir="${NNFT_DATA_DIR:-$root/nnft-data}"
widths="${NNFT_DEMO_WIDTHS:-8 16 32 64 128 256 512}"
template="$root/deploy/examples/erf_width_sweep.json"

say() { printf '\n== %s\n' "$*"; }

if [ "${NNFT_DEMO_SKIP_DEPS:-0}" != 1 ]; then
  say "installing missing Debian packages (deploy/install_deps.sh)"
  bash "$root/deploy/install_deps.sh"
fi

if [ "${NNFT_DEMO_SKIP_BUILD:-0}" != 1 ]; then
  say "building nnft-server and nnft into $build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target nnft-server nnft -j"$(nproc)"
fi
server_bin="$build/bin/nnft-server"
nnft_bin="$build/bin/nnft"

work=$(mktemp -d)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_server EXIT

say "starting the server (data directory $data_dir)"
mkdir -p "$data_dir"
log="$work/server.log"
"$server_bin" --listen=127.0.0.1:0 --data_dir="$data_dir" \
  --worker_threads="$(nproc)" >"$log" 2>&1 &
server_pid=$!

address=""
for _ in $(seq 1 600); do
  address=$(sed -n 's/.*listening.*address=\([^ "]*\).*/\1/p' "$log" | head -n1)
  [ -n "$address" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "nnft-server exited; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$address" ]; then
  echo "nnft-server did not report a listening address; its log:" >&2
  cat "$log" >&2
  exit 1
fi
nnft() { "$nnft_bin" --server="$address" "$@"; }

# Healthy once it answers GetServerInfo.
for _ in $(seq 1 100); do
  nnft --timeout=2s info >/dev/null 2>&1 && break
  sleep 0.2
done
nnft info

say "width sweep: submitting each width and following it"
for n in $widths; do
  spec="$work/erf_N$n.json"
  sed -e "s/\"widths\": \[[0-9]*\]/\"widths\": [$n]/" \
      -e "s/width sweep/width sweep, N = $n/" "$template" >"$spec"
  job=$(nnft submit "$spec" --watch | awk '/^name:/ {print $2}')
  if [ -z "$job" ]; then
    echo "submitting N = $n failed" >&2
    exit 1
  fi
  nnft result "$job" --format=csv >"$work/result_N$n.csv"
  echo "$n $job" >>"$work/jobs.txt"
done

say "results (x1 = 0.5, x2 = -1.0; errors are one standard error)"
{
  printf '%5s  %-24s %-11s %6s   %-24s %-12s %6s\n' \
    N "G2(x1,x2) +- err" "NNGP K" z "N*G4_c(x1,x1,x2,x2)" "N*exact" z
  while read -r n job; do
    awk -F, -v n="$n" '
      function num(s) { return (s == "" || s == "nan") ? "n/a" : s }
      NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
      $col["tuple"] == "0 1" {
        g2 = $col["mean"]; e2 = $col["stderr"]; k = $col["gp"]; z2 = $col["z_gp"]
      }
      $col["tuple"] == "0 0 1 1" {
        c4 = $col["connected"]; e4 = $col["connected_stderr"]
        x4 = $col["exact_connected"]; z4 = $col["z_exact_connected"]
      }
      END {
        ex = (x4 == "" || x4 == "nan") ? "n/a" : sprintf("%.5f", n * x4)
        zz = (z4 == "" || z4 == "nan") ? "n/a" : sprintf("%+.2f", z4)
        printf "%5d  %.5f +- %-12.5f %-11.5f %+6.2f   %+.5f +- %-12.5f %-12s %6s\n",
          n, g2, e2, k, z2, n * c4, n * e4, ex, zz
      }' "$work/result_N$n.csv"
  done <"$work/jobs.txt"
}

say "stopping the server (SIGTERM)"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
echo "nnft-server exited with status $status"
echo "The results stay in $data_dir; rerunning the demo answers from the store."
