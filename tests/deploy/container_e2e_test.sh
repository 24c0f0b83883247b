#!/usr/bin/env bash
# The container image end to end, with podman on this host:
#  1. builds the image with deploy/podman_image.sh (nnft:<commit of HEAD>;
#     reused when it exists; NNFT_CONTAINER_IMAGE=<tag> tests a given image);
#  2. checks the image: non-root user, HEALTHCHECK, the data volume, the
#     engine fingerprint naming the portable -march the Dockerfile sets;
#  3. starts it (host network) with a named volume on /var/lib/nnft and
#     submits a width sweep (deploy/examples/erf_width_sweep.json with fewer
#     networks) from the host's CLI and from the Python client: both results
#     must be bit-identical, and so must a second container of the image on
#     a fresh volume computing it again;
#  4. runs the same spec on a bare nnft-server from <bin dir>: bit-identical
#     when the engine fingerprints match (a build with the image's
#     -DNNFT_MARCH), else within 5 combined standard errors (the bits of
#     different instruction sets are not comparable; the script says so);
#  5. SIGKILLs the container, starts a new one on the same volume and reads
#     the result from the store: bit-identical to the one before;
#  6. health: the image's own HEALTHCHECK (podman healthcheck run) and
#     nnft-healthcheck from the host;
#  7. SIGTERM while a job runs (podman stop, grace 60 s as in compose and
#     Kubernetes): exit status 0 within the grace period, the chunks done
#     kept, the job resumed by the next container;
#  8. podman-compose with deploy/docker-compose.yml (when podman-compose is
#     installed): up, healthy, a job, down;
#  9. podman play kube with the StatefulSet's pod template as a Pod (podman
#     4.3 has no StatefulSet kind): TLS and a token, health port, same bits.
# The image build compiles the project and runs the test suite (about 30 min
# on 2 cores; minutes with a warm ccache), so CTest runs this only with
# NNFT_CONTAINER_TEST=1:
#   NNFT_CONTAINER_TEST=1 ctest --test-dir build -R container_e2e --output-on-failure
# Usage: container_e2e_test.sh <repo root> <bin dir>; exit 77 (skip) without
# NNFT_CONTAINER_TEST=1, podman, or the host binaries.
set -euo pipefail
root=$(cd "$1" && pwd)
bin=$(cd "$2" && pwd)
if [ "${NNFT_CONTAINER_TEST:-0}" != 1 ]; then
  echo "SKIP: the container test builds the image (slow); run it with NNFT_CONTAINER_TEST=1"
  exit 77
fi
if ! command -v podman >/dev/null 2>&1; then
  echo "SKIP: podman is not installed (apt-get install podman buildah runc debootstrap)"
  exit 77
fi
for b in nnft nnft-server nnft-healthcheck; do
  [ -x "$bin/$b" ] || { echo "SKIP: $bin/$b is not built"; exit 77; }
done
py=/usr/bin/python3
export PYTHONPATH="$bin/../python${PYTHONPATH:+:$PYTHONPATH}"
helper="$root/tests/deploy/container_result.py"
t_start=$SECONDS
# CONTAINERS_CONF (runc, limits) for every podman call below.
# shellcheck source=/dev/null
. "$root/deploy/podman_image.sh" --env

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnft-container-e2e.XXXXXX")
name="nnft-e2e-$$"
vol="nnft-e2e-$$"
bare_pid=""
compose_up=0
cleanup() {
  podman rm -f -t 0 "$name" "$name-b" >/dev/null 2>&1 || true
  podman volume rm -f "$vol" "$vol-b" >/dev/null 2>&1 || true
  if [ "$compose_up" = 1 ]; then
    (cd "$tmp" && podman-compose -p "nnft-e2e-$$" -f "$root/deploy/docker-compose.yml" down -v >/dev/null 2>&1) || true
  fi
  [ -n "$bare_pid" ] && kill -KILL "$bare_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
free_port() { $py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_free() { $py -c 'import socket,sys; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }
json_field() { $py -c 'import json,sys; d = json.load(sys.stdin)
for k in sys.argv[1].split("."): d = d.get(k, 0) if isinstance(d, dict) else 0
print(d)' "$1"; }

# --- 1. the image ----------------------------------------------------------
if [ -n "${NNFT_CONTAINER_IMAGE:-}" ]; then
  tag="$NNFT_CONTAINER_IMAGE"
  echo "image: $tag (given by NNFT_CONTAINER_IMAGE)"
else
  t0=$SECONDS
  tag=$(bash "$root/deploy/podman_image.sh" | tail -n 1)
  echo "image: $tag ($((SECONDS - t0)) s to build or find)"
fi
podman image exists "$tag" || fail "no image $tag"
revision=$(podman image inspect "$tag" --format '{{index .Labels "org.opencontainers.image.revision"}}')
echo "image revision: ${revision:-unknown}; HEAD: $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
size=$(podman image inspect "$tag" --format '{{.Size}}')
base=$(podman image inspect debian:bookworm-slim --format '{{.Size}}' 2>/dev/null || echo 0)
echo "image size: $((size / 1000000)) MB, over debian:bookworm-slim: $(((size - base) / 1000000)) MB"

# --- 2. what the image declares --------------------------------------------
user=$(podman image inspect "$tag" --format '{{.Config.User}}')
[ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ] || fail "image user '$user' is root"
health=$(podman image inspect "$tag" --format '{{if .Config.Healthcheck}}{{join .Config.Healthcheck.Test " "}}{{end}}')
case "$health" in *nnft-healthcheck*) ;; *) fail "image has no nnft-healthcheck HEALTHCHECK ('$health')";; esac
volumes=$(podman image inspect "$tag" --format '{{range $k, $v := .Config.Volumes}}{{$k}} {{end}}')
case " $volumes " in *" /var/lib/nnft "*) ;; *) fail "/var/lib/nnft is not a volume ($volumes)";; esac
echo "image declares: user $user, HEALTHCHECK '$health', volumes $volumes"

# --- 3. the container, the CLI and the Python client -----------------------
# Host network (the reliable choice on hosts like this one). Port 50051 when
# free, so the image's own HEALTHCHECK applies unchanged; else a free port and
# the same check pointed at it.
if port_free 50051; then
  port=50051
  health_args=()
else
  port=$(free_port)
  health_args=(--health-cmd "[\"nnft-healthcheck\", \"--addr=127.0.0.1:$port\", \"--timeout=3s\"]")
  echo "note: port 50051 is in use on this host; the container listens on $port"
fi
mport=$(free_port)
addr="127.0.0.1:$port"
podman volume create "$vol" >/dev/null
start_container() {
  podman run -d --name "$name" --network=host --stop-timeout 60 \
    -v "$vol:/var/lib/nnft" "${health_args[@]}" "$tag" \
    --listen="$addr" --metrics_listen="127.0.0.1:$mport" --worker_threads=2 >/dev/null
  local t0=$SECONDS
  until "$bin/nnft-healthcheck" --addr="$addr" --timeout=2s >/dev/null 2>&1; do
    [ "$(podman inspect "$name" --format '{{.State.Running}}')" = true ] ||
      { podman logs "$name" | tail -n 20; fail "container exited"; }
    [ $((SECONDS - t0)) -lt 60 ] || { podman logs "$name" | tail -n 20; fail "not SERVING in 60 s"; }
    sleep 0.3
  done
  echo "container $name SERVING on $addr after $((SECONDS - t0)) s"
}
start_container
[ "$(podman exec "$name" id -u)" = 10001 ] || fail "server does not run as uid 10001"
podman exec "$name" sh -c 'test -w /var/lib/nnft && ls /var/lib/nnft' |
  grep -q nnft.db || fail "no store nnft.db in the volume"
"$bin/nnft" --server "$addr" info > "$tmp/info.txt"
engine=$(sed -n 's/^ *engine: *//p' "$tmp/info.txt" | head -n 1)
echo "container engine fingerprint: $engine"
# The -march the Dockerfile builds with (NNFT_CONTAINER_MARCH for an image
# built otherwise).
march=${NNFT_CONTAINER_MARCH:-$(grep -o -- '-DNNFT_MARCH=[^ ]*' "$root/deploy/Dockerfile" | head -n 1 | cut -d= -f2)}
case "$engine" in *"$march"*) ;; *) fail "engine fingerprint '$engine' does not name -march=$march";; esac

# The width-sweep example with fewer networks (the same widths and tuples).
spec="$tmp/sweep.json"
$py - "$root/deploy/examples/erf_width_sweep.json" "$spec" <<'EOF'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["label"] = "container e2e: " + spec["label"]
spec["sampling"]["num_networks"] = "60000"
json.dump(spec, open(sys.argv[2], "w"), indent=1)
EOF
t0=$SECONDS
"$bin/nnft" --server "$addr" --timeout 600s submit "$spec" --watch > "$tmp/cli_watch.txt" 2> "$tmp/cli_watch.err" ||
  { cat "$tmp/cli_watch.txt" "$tmp/cli_watch.err"; fail "CLI submit --watch"; }
job=$(grep -o 'jobs/[0-9a-f]*' "$tmp/cli_watch.txt" "$tmp/cli_watch.err" | head -n 1 | cut -d: -f2)
[ -n "$job" ] || fail "no job name in the CLI's output"
echo "CLI: $job computed in the container in $((SECONDS - t0)) s"
grep -A4 -i 'fit' "$tmp/cli_watch.txt" | head -n 8 || true
"$bin/nnft" --server "$addr" result "$job" --format json > "$tmp/cli_result.json"
$py "$helper" cli "$tmp/cli_result.json" "$engine" "$tmp/container_cli.json"
$py "$helper" python "$addr" "$spec" "$tmp/container_py.json"
$py "$helper" compare "$tmp/container_cli.json" "$tmp/container_py.json" bits ||
  fail "CLI and Python client results differ"

# The same image again, a second container on a fresh volume: the sweep
# recomputed must have the same bits (the engine is deterministic).
port2=$(free_port)
podman volume create "$vol-b" >/dev/null
podman run -d --name "$name-b" --network=host -v "$vol-b:/var/lib/nnft" "$tag" \
  --listen="127.0.0.1:$port2" --metrics_listen="127.0.0.1:$(free_port)" --worker_threads=2 >/dev/null
for _ in $(seq 1 150); do
  "$bin/nnft-healthcheck" --addr="127.0.0.1:$port2" --timeout=2s >/dev/null 2>&1 && break
  sleep 0.2
done
$py "$helper" python "127.0.0.1:$port2" "$spec" "$tmp/container2_py.json"
podman rm -f -t 10 "$name-b" >/dev/null
podman volume rm -f "$vol-b" >/dev/null
echo "second container, fresh volume:"
$py "$helper" compare "$tmp/container_py.json" "$tmp/container2_py.json" bits ||
  fail "two containers of one image computed different bits"

# --- 4. against a bare server on the host ----------------------------------
bport=$(free_port)
"$bin/nnft-server" --listen="127.0.0.1:$bport" --data_dir="$tmp/bare" \
  --worker_threads=2 > "$tmp/bare.log" 2>&1 &
bare_pid=$!
for _ in $(seq 1 100); do
  "$bin/nnft-healthcheck" --addr="127.0.0.1:$bport" --timeout=2s >/dev/null 2>&1 && break
  sleep 0.2
done
t0=$SECONDS
$py "$helper" python "127.0.0.1:$bport" "$spec" "$tmp/bare_py.json"
echo "bare server: computed in $((SECONDS - t0)) s"
kill -TERM "$bare_pid"; wait "$bare_pid" || true; bare_pid=""
bare_engine=$(json_field fingerprint < "$tmp/bare_py.json")
if [ "$bare_engine" = "$engine" ]; then
  echo "container vs bare: same engine fingerprint, so every number must be bit-identical"
  $py "$helper" compare "$tmp/container_py.json" "$tmp/bare_py.json" bits ||
    fail "container and bare results differ"
else
  echo "container vs bare: engine fingerprints differ ($engine vs $bare_engine):"
  echo "  bits are not comparable across instruction sets; checking 5 sigma agreement"
  echo "  (configure the host build with -DNNFT_MARCH=x86-64-v3 for the bit comparison)"
  $py "$helper" compare "$tmp/container_py.json" "$tmp/bare_py.json" sigma:5 ||
    fail "container and bare results disagree beyond 5 sigma"
fi

# --- 5. SIGKILL, a new container on the same volume, the result from the store
podman kill --signal KILL "$name" >/dev/null
podman wait "$name" >/dev/null || true
echo "SIGKILL: container exit code $(podman inspect "$name" --format '{{.State.ExitCode}}')"
podman rm "$name" >/dev/null
start_container
[ "$("$bin/nnft" --server "$addr" get "$job" --format json | json_field state)" = SUCCEEDED ] ||
  fail "$job is not SUCCEEDED after the restart"
"$bin/nnft" --server "$addr" result "$job" --format json > "$tmp/cli_result2.json"
$py "$helper" cli "$tmp/cli_result2.json" "$engine" "$tmp/container_cli2.json"
$py "$helper" compare "$tmp/container_cli.json" "$tmp/container_cli2.json" bits ||
  fail "the result read back after SIGKILL and restart differs"
echo "ok: $job read back from the volume after SIGKILL, bit-identical"

# --- 6. health -------------------------------------------------------------
podman healthcheck run "$name" || fail "podman healthcheck run (the image's HEALTHCHECK) failed"
echo "image HEALTHCHECK: $(podman inspect "$name" --format '{{.State.Health.Status}}' 2>/dev/null || echo healthy)"
"$bin/nnft-healthcheck" --addr="$addr" --timeout=3s || fail "nnft-healthcheck from the host"
curl -fsS "http://127.0.0.1:$mport/metrics" 2>/dev/null | grep -m1 '^nnft_' >/dev/null &&
  echo "metrics: /metrics answers on 127.0.0.1:$mport" || echo "note: /metrics not checked (curl missing or no answer)"

# --- 7. SIGTERM drains a running job ----------------------------------------
long="$tmp/long.json"
$py - "$root/deploy/examples/erf_width_sweep.json" "$long" <<'EOF'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["label"] = "container e2e: drain"
spec["sampling"]["num_networks"] = "4000000"
json.dump(spec, open(sys.argv[2], "w"), indent=1)
EOF
# (The Python client: `nnft submit` follows a width sweep to its end.)
ljob=$($py -c 'import nnft, sys
with nnft.Client(sys.argv[1], timeout=30) as c: print(c.submit(sys.argv[2]).name)' "$addr" "$long")
done_before=0
for _ in $(seq 1 300); do
  "$bin/nnft" --server "$addr" get "$ljob" --format json > "$tmp/long_job.json"
  done_before=$(json_field progress.chunks_done < "$tmp/long_job.json")
  [ "$done_before" -ge 2 ] && break
  sleep 0.2
done
[ "$done_before" -ge 2 ] || fail "$ljob made no progress"
t0=$(date +%s.%N)
podman stop -t 60 "$name" >/dev/null
t1=$(date +%s.%N)
drain=$($py -c "print(round($t1 - $t0, 2))")
status=$(podman inspect "$name" --format '{{.State.ExitCode}}')
echo "SIGTERM with $ljob running ($done_before chunks done): exit status $status after $drain s (grace 60 s)"
podman logs "$name" 2>&1 | tail -n 3
[ "$status" = 0 ] || fail "exit status $status after SIGTERM (137: killed at the end of the grace period)"
$py -c "import sys; sys.exit(0 if $drain < 60 else 1)" || fail "drain took $drain s"
podman rm "$name" >/dev/null
start_container
"$bin/nnft" --server "$addr" get "$ljob" --format json > "$tmp/long_job2.json"
state=$(json_field state < "$tmp/long_job2.json")
kept=$(json_field progress.chunks_done < "$tmp/long_job2.json")
echo "after restart: $ljob $state with $kept chunks done (at least $done_before were before SIGTERM)"
[ "$kept" -ge "$done_before" ] || fail "chunks lost: $kept < $done_before"
case "$state" in QUEUED|RUNNING|SUCCEEDED) ;; *) fail "$ljob is $state after restart";; esac
"$bin/nnft" --server "$addr" cancel "$ljob" >/dev/null || true
podman stop -t 60 "$name" >/dev/null
podman rm "$name" >/dev/null

# --- 8. compose ---------------------------------------------------------------
if command -v podman-compose >/dev/null 2>&1 && port_free 50051 && port_free 9464; then
  podman tag "$tag" nnft:latest
  compose=(podman-compose -p "nnft-e2e-$$" -f "$root/deploy/docker-compose.yml")
  compose_up=1
  (cd "$tmp" && "${compose[@]}" up -d > "$tmp/compose.log" 2>&1) ||
    { cat "$tmp/compose.log"; fail "podman-compose up"; }
  t0=$SECONDS
  until "$bin/nnft-healthcheck" --addr=127.0.0.1:50051 --timeout=2s >/dev/null 2>&1; do
    [ $((SECONDS - t0)) -lt 60 ] || { cat "$tmp/compose.log"; fail "compose service not SERVING in 60 s"; }
    sleep 0.5
  done
  cname=$(podman ps --filter "label=io.podman.compose.project=nnft-e2e-$$" --format '{{.Names}}' | head -n 1)
  podman healthcheck run "$cname" || fail "compose service HEALTHCHECK"
  $py "$helper" python 127.0.0.1:50051 "$spec" "$tmp/compose_py.json"
  $py "$helper" compare "$tmp/container_py.json" "$tmp/compose_py.json" bits ||
    fail "compose service result differs"
  (cd "$tmp" && "${compose[@]}" down -v >> "$tmp/compose.log" 2>&1) || fail "podman-compose down"
  compose_up=0
  echo "ok: podman-compose up (published ports 50051, 9464), healthy, same bits, down"
else
  echo "note: compose not checked (podman-compose not installed, or port 50051/9464 in use)"
fi

# --- 9. the Kubernetes manifests through podman play kube ------------------
# podman 4.3 plays Pods, Deployments and PersistentVolumeClaims, not
# StatefulSets: the StatefulSet's pod template is played as a Pod with its
# volume claim template as a PersistentVolumeClaim, the ConfigMap as given
# (--configmap; podman 4.3 does not expand $(VAR) in args, so the derivation
# does, as Kubernetes would), every port published on the host (hostPort),
# and the Secret nnft-secrets (TLS key pair and tokens made here) as a host
# directory, since this podman has no Secret kind.
if command -v openssl >/dev/null 2>&1 && port_free 50051 && port_free 9464 && port_free 8081; then
  kube="$tmp/kube"
  mkdir -p "$kube/secrets"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$kube/secrets/tls.key" -out "$kube/secrets/tls.crt" 2>/dev/null
  token=$(openssl rand -hex 16)
  echo "$token e2e" > "$kube/secrets/tokens"
  echo "$token" > "$kube/token"
  chmod 0755 "$kube/secrets" && chmod 0444 "$kube/secrets"/*
  $py - "$root/deploy/k8s/statefulset.yaml" "$kube/pod.yaml" "$tag" "$kube/secrets" "$vol-kube" \
      "$root/deploy/k8s/configmap.yaml" <<'EOF'
import re, sys, yaml
src, out, image, secrets, claim, configmap = sys.argv[1:]
cm = yaml.safe_load(open(configmap))
sts = next(d for d in yaml.safe_load_all(open(src)) if d and d.get("kind") == "StatefulSet")
tpl = sts["spec"]["template"]
pod = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": sts["metadata"]["name"], **tpl["metadata"]},
       "spec": tpl["spec"]}
for c in pod["spec"]["containers"]:
    c["image"] = image
    # Kubernetes expands $(VAR) in args from the container's env; podman 4.3
    # does not, so the values (literal or from the ConfigMap) go in here.
    env = {}
    for e in c.get("env", []):
        ref = e.get("valueFrom", {}).get("configMapKeyRef")
        if ref and ref["name"] == cm["metadata"]["name"]:
            env[e["name"]] = cm["data"][ref["key"]]
        elif "value" in e:
            env[e["name"]] = e["value"]
    c["args"] = [re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), a)
                 for a in c.get("args", [])]
    for p in c.get("ports", []):
        p["hostPort"] = p["containerPort"]
    for m in c.get("volumeMounts", []):
        if m["name"] == "data":
            m["name"] = "data"
vols = []
for v in pod["spec"]["volumes"]:
    if "secret" in v:
        v = {"name": v["name"], "hostPath": {"path": secrets, "type": "Directory"}}
    vols.append(v)
vct = sts["spec"]["volumeClaimTemplates"][0]
vols.append({"name": vct["metadata"]["name"],
             "persistentVolumeClaim": {"claimName": claim}})
pod["spec"]["volumes"] = vols
pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
       "metadata": {"name": claim}, "spec": vct["spec"]}
yaml.safe_dump_all([pvc, pod], open(out, "w"), sort_keys=False)
EOF
  kube_down() { podman play kube --down "$kube/pod.yaml" >/dev/null 2>&1 || true; podman volume rm -f "$vol-kube" >/dev/null 2>&1 || true; }
  trap 'kube_down; cleanup' EXIT
  podman play kube --configmap "$root/deploy/k8s/configmap.yaml" "$kube/pod.yaml" > "$tmp/kube.log" 2>&1 ||
    { cat "$tmp/kube.log"; fail "podman play kube"; }
  t0=$SECONDS
  until "$bin/nnft-healthcheck" --addr=127.0.0.1:8081 --timeout=2s >/dev/null 2>&1; do
    [ $((SECONDS - t0)) -lt 60 ] || { podman pod logs nnft 2>&1 | tail -n 20; fail "kube pod not SERVING on the health port in 60 s"; }
    sleep 0.5
  done
  kcli=("$bin/nnft" --server 127.0.0.1:50051 --tls_ca "$kube/secrets/tls.crt" --token_file "$kube/token")
  "${kcli[@]}" info | grep -E '^(engine|version)' || fail "TLS + token info on the kube pod"
  if "$bin/nnft" --server 127.0.0.1:50051 --tls_ca "$kube/secrets/tls.crt" info >/dev/null 2>&1; then
    fail "the kube pod answered without a token"
  fi
  "${kcli[@]}" --timeout 600s submit "$spec" --watch > "$tmp/kube_watch.txt" 2>&1 ||
    { cat "$tmp/kube_watch.txt"; fail "submit to the kube pod"; }
  kjob=$(grep -o 'jobs/[0-9a-f]*' "$tmp/kube_watch.txt" | head -n 1)
  "${kcli[@]}" result "$kjob" --format json > "$tmp/kube_result.json"
  $py "$helper" cli "$tmp/kube_result.json" "$engine" "$tmp/kube_cli.json"
  $py "$helper" compare "$tmp/container_cli.json" "$tmp/kube_cli.json" bits ||
    fail "kube pod result differs"
  t0=$(date +%s.%N)
  podman play kube --down "$kube/pod.yaml" >/dev/null
  echo "ok: podman play kube (StatefulSet template as a Pod, TLS + token, health port 8081): same bits; down in $($py -c "print(round($(date +%s.%N) - $t0, 2))") s"
  kube_down
else
  echo "note: kube manifests not checked (openssl missing or port 50051/9464/8081 in use)"
fi

echo "ok: container e2e in $((SECONDS - t_start)) s"
