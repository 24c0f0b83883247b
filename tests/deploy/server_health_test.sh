#!/usr/bin/env bash
# The container health check against the real server, as the image runs it:
# nnft-server with the image's flags (--listen, --data_dir) on a free local
# port; nnft-healthcheck must exit 1 before it listens, 0 once it serves, and
# 1 again after SIGTERM has stopped it (which must happen within the
# Kubernetes/compose grace period the manifests give, 60 s).
# Usage: server_health_test.sh <bin dir>; exit 77 (skip) without nnft-server.
set -euo pipefail
bin="$1"
[ -x "$bin/nnft-server" ] || { echo "SKIP: $bin/nnft-server is not built"; exit 77; }
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
check() { "$bin/nnft-healthcheck" --addr="127.0.0.1:$port" --timeout=2s; }

if check >/dev/null 2>&1; then
  echo "FAIL: healthy before the server started"; exit 1
fi
"$bin/nnft-server" --listen="127.0.0.1:$port" --data_dir="$tmp/data" \
  --worker_threads=1 > "$tmp/server.log" 2>&1 &
server_pid=$!
healthy=0
for _ in $(seq 1 100); do
  if check > /dev/null 2>&1; then healthy=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.2
done
if [ "$healthy" -ne 1 ]; then
  cat "$tmp/server.log"; echo "FAIL: never SERVING within 20 s"; exit 1
fi
check
kill -TERM "$server_pid"
start=$(date +%s)
while kill -0 "$server_pid" 2>/dev/null; do
  if [ $(( $(date +%s) - start )) -gt 60 ]; then
    echo "FAIL: still running 60 s after SIGTERM"; exit 1
  fi
  sleep 0.2
done
wait "$server_pid" && status=0 || status=$?
server_pid=""
echo "server exited with status $status after SIGTERM"
if check >/dev/null 2>&1; then
  echo "FAIL: healthy after the server stopped"; exit 1
fi
echo "ok: unhealthy -> SERVING -> unhealthy after SIGTERM"
