#!/usr/bin/env bash
# nnft demo, the README's first command: `bash deploy/demo.sh` from the repo
# root on a fresh Debian machine. It installs what is missing, builds the
# server and the CLI into build/, starts build/bin/nnft-server on its
# embedded store (data directory $NNFT_DATA_DIR, default ./nnft-data) on a
# free port, and runs one width-sweep experiment of a single-hidden-layer erf
# net (deploy/examples/erf_width_sweep.json) through the `nnft` CLI: the
# server runs every width N (each stored under its own digest) and the CLI
# prints, per width, G2, G4_c and G6_c beside their exact finite-width values
# with z-scores and the deviation m_n from the NNGP, then the weighted fits
# |G4_c| = A N^s and |G6_c| = A N^s (exact: s = -1 and -2). Every number comes
# from the server. Finally it stops the server with SIGTERM.
#
# Environment: NNFT_DATA_DIR (store directory), NNFT_BUILD_DIR (default
# build), NNFT_DEMO_WIDTHS (comma-separated, default "2,3,4,6,8,12,16,32"),
# NNFT_DEMO_SKIP_DEPS=1 (skip install_deps.sh), NNFT_DEMO_SKIP_BUILD=1 (use
# the binaries already in $NNFT_BUILD_DIR/bin).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build="${NNFT_BUILD_DIR:-$root/build}"
data_dir="${NNFT_DATA_DIR:-$root/nnft-data}"
widths="${NNFT_DEMO_WIDTHS:-2,3,4,6,8,12,16,32}"
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

say "width sweep N = $widths: one experiment, every width a sub-experiment"
spec="$work/erf_width_sweep.json"
sed -e "s/\"width_sweep\": {\"widths\": \[[0-9, ]*\]}/\"width_sweep\": {\"widths\": [$widths]}/" \
  "$template" >"$spec"
nnft submit "$spec" >"$work/sweep.txt"
cat "$work/sweep.txt"

say "fitted exponents |G_c| ~ N^s (x1 = 0.5, x2 = -1.0; one hidden layer: s = -1 for G4_c, -2 for G6_c)"
awk '/^# fits/ {on = 1; next} on && NF' "$work/sweep.txt"

say "stopping the server (SIGTERM)"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
echo "nnft-server exited with status $status"
echo "The results stay in $data_dir; rerunning the demo answers from the store."
