#!/usr/bin/python3
"""Offline checks of deploy/k8s (no cluster needed).

Loads every manifest with PyYAML and checks: the kustomization lists every
manifest (the *.example.yaml files excepted, and those must not be listed);
each object has a known kind with its apiVersion and the fields Kubernetes
requires; the StatefulSet runs one replica with a volumeClaimTemplate
mounted at the data directory; its probes are native gRPC probes on the
container's plaintext health port (--health_listen; the API port when
there is none); the server flags --tls_cert, --tls_key and --token_file name
files under a read-only mount of a Secret volume, which the example Secret
(secret.example.yaml) provides as keys; resources set requests and limits;
the Services select the pod and expose port 50051 named grpc; the container,
a Service and the pod template expose metrics port 9464 with prometheus.io
scrape annotations; the ConfigMap holds every
variable the StatefulSet reads from it. With kubectl on PATH, also builds
the kustomization (`kubectl kustomize`) and checks the same objects come
out. Exit 0 on success, 1 with one line per failure.

Usage: k8s_manifests_test.py <deploy/k8s directory>
"""

import os
import shutil
import subprocess
import sys

import yaml

GRPC_PORT = 50051
METRICS_PORT = 9464  # nnft-server --metrics_listen in the image's ENTRYPOINT
DATA_DIR = "/var/lib/nnft"
API_VERSIONS = {
    "StatefulSet": "apps/v1",
    "Service": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
}

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def load_all(path):
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def check_object(obj, where):
    kind = obj.get("kind")
    if not check(kind in API_VERSIONS, f"{where}: unknown kind {kind!r}"):
        return
    check(obj.get("apiVersion") == API_VERSIONS[kind],
          f"{where}: {kind} apiVersion {obj.get('apiVersion')!r}, "
          f"want {API_VERSIONS[kind]!r}")
    name = (obj.get("metadata") or {}).get("name")
    check(isinstance(name, str) and name, f"{where}: {kind} has no metadata.name")
    if kind in ("StatefulSet", "Service"):
        check(isinstance(obj.get("spec"), dict), f"{where}: {kind} has no spec")


def flag_value(args, flag):
    """The value of --flag=value in a container's args, or None."""
    for a in args:
        if isinstance(a, str) and a.startswith(flag + "="):
            return a[len(flag) + 1:]
    return None


def health_port(c):
    """The port probes must use: --health_listen's, else the gRPC port."""
    listen = flag_value(c.get("args") or [], "--health_listen")
    if listen is None:
        return GRPC_PORT
    return int(listen.rsplit(":", 1)[1])


def check_probe(probe, name, container_ports, where, want_port=GRPC_PORT):
    if not check(isinstance(probe, dict), f"{where}: no {name}"):
        return
    grpc = probe.get("grpc")
    if not check(isinstance(grpc, dict), f"{where}: {name} is not a grpc probe"):
        return
    port = grpc.get("port")
    check(isinstance(port, int), f"{where}: {name}.grpc.port {port!r} must be a number")
    check(port in container_ports,
          f"{where}: {name}.grpc.port {port} is not a container port {container_ports}")
    check(port == want_port, f"{where}: {name}.grpc.port {port}, want {want_port}")


def check_container(c, where):
    where = f"{where} container {c.get('name')!r}"
    check(c.get("image"), f"{where}: no image")
    ports = {p.get("containerPort"): p for p in c.get("ports") or []}
    check(GRPC_PORT in ports and ports[GRPC_PORT].get("name") == "grpc",
          f"{where}: no containerPort {GRPC_PORT} named grpc")
    want = health_port(c)
    for probe in ("readinessProbe", "livenessProbe"):
        check_probe(c.get(probe), probe, list(ports), where, want)
    if "startupProbe" in c:
        check_probe(c["startupProbe"], "startupProbe", list(ports), where, want)
    check(METRICS_PORT in ports and ports[METRICS_PORT].get("name") == "metrics",
          f"{where}: no containerPort {METRICS_PORT} named metrics")
    res = c.get("resources") or {}
    for part in ("requests", "limits"):
        check(all(k in (res.get(part) or {}) for k in ("cpu", "memory")),
              f"{where}: resources.{part} must set cpu and memory")
    mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
    check(DATA_DIR in mounts, f"{where}: nothing mounted at {DATA_DIR}")
    return mounts


def check_scrape_annotations(obj, where):
    notes = (obj.get("metadata") or {}).get("annotations") or {}
    check(notes.get("prometheus.io/scrape") == "true" and
          notes.get("prometheus.io/port") == str(METRICS_PORT) and
          notes.get("prometheus.io/path", "/metrics") == "/metrics",
          f"{where}: prometheus.io annotations must scrape port {METRICS_PORT} /metrics")


def check_secret_files(c, volumes, where):
    """Each security flag names a file in a read-only Secret volume mount."""
    args = c.get("args") or []
    for flag in ("--tls_cert", "--tls_key", "--tls_client_ca", "--token_file"):
        path = flag_value(args, flag)
        if path is None:
            continue
        mount = next((m for m in c.get("volumeMounts") or []
                      if path.startswith(m.get("mountPath", "").rstrip("/") + "/")),
                     None)
        if not check(mount, f"{where}: {flag}={path} is under no volume mount"):
            continue
        check(mount.get("readOnly") is True,
              f"{where}: {mount.get('mountPath')} (secrets) must be readOnly")
        secret = (volumes.get(mount.get("name")) or {}).get("secret") or {}
        if check(secret.get("secretName"),
                 f"{where}: {flag}={path}: volume {mount.get('name')!r} is not a Secret"):
            SECRET_KEYS.setdefault(secret["secretName"], set()).add(
                path[len(mount["mountPath"].rstrip("/")) + 1:])
    if flag_value(args, "--tls_cert") is not None:
        check(flag_value(args, "--tls_key") is not None,
              f"{where}: --tls_cert without --tls_key")


# Secret name -> file names the StatefulSet reads from it.
SECRET_KEYS = {}


def check_example_secrets(examples):
    """The example Secret holds every key the StatefulSet reads."""
    for name, keys in SECRET_KEYS.items():
        data = examples.get(name)
        if check(data is not None,
                 f"no example Secret {name!r} (secret.example.yaml) for the "
                 f"files {sorted(keys)}"):
            missing = sorted(keys - set(data))
            check(not missing, f"example Secret {name!r} lacks keys {missing}")


def check_statefulset(obj, configmaps, where):
    spec = obj["spec"]
    check(spec.get("replicas") == 1,
          f"{where}: replicas {spec.get('replicas')!r}: must be 1 (one SQLite writer)")
    check(spec.get("serviceName"), f"{where}: no serviceName")
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    check(selector and all(labels.get(k) == v for k, v in selector.items()),
          f"{where}: selector {selector} does not match the pod labels {labels}")
    check_scrape_annotations(template, f"{where} pod template")
    containers = (template.get("spec") or {}).get("containers") or []
    if not check(containers, f"{where}: no containers"):
        return selector
    claims = [t.get("metadata", {}).get("name")
              for t in spec.get("volumeClaimTemplates") or []]
    check(claims, f"{where}: no volumeClaimTemplates")
    volumes = {v.get("name"): v
               for v in (template.get("spec") or {}).get("volumes") or []}
    for c in containers:
        mounts = check_container(c, where)
        check_secret_files(c, volumes, where)
        check(mounts.get(DATA_DIR) in claims,
              f"{where}: {DATA_DIR} is not mounted from a volumeClaimTemplate")
        for env in c.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
            if ref:
                check(ref.get("key") in configmaps.get(ref.get("name"), {}),
                      f"{where}: env {env.get('name')} reads missing "
                      f"ConfigMap key {ref.get('name')}/{ref.get('key')}")
    return selector


def check_service(obj, pod_selector, where):
    spec = obj["spec"]
    check(spec.get("selector") == pod_selector,
          f"{where}: selector {spec.get('selector')} is not the pod's {pod_selector}")
    ports = spec.get("ports") or []
    check(any(p.get("port") == GRPC_PORT and p.get("name") == "grpc" for p in ports),
          f"{where}: no port {GRPC_PORT} named grpc")


def check_objects(objects, source):
    by_kind = {}
    for where, obj in objects:
        check_object(obj, where)
        by_kind.setdefault(obj.get("kind"), []).append((where, obj))
    for kind in ("StatefulSet", "Service", "ConfigMap"):
        check(kind in by_kind, f"{source}: no {kind}")
    configmaps = {o["metadata"]["name"]: o.get("data") or {}
                  for _, o in by_kind.get("ConfigMap", [])}
    selector = None
    for where, obj in by_kind.get("StatefulSet", []):
        selector = check_statefulset(obj, configmaps, where)
    service_names = [o["metadata"]["name"] for _, o in by_kind.get("Service", [])]
    for where, obj in by_kind.get("Service", []):
        check_service(obj, selector, where)
    metrics_services = [
        (where, o) for where, o in by_kind.get("Service", [])
        if any(p.get("port") == METRICS_PORT and p.get("name") == "metrics"
               for p in o["spec"].get("ports") or [])]
    check(metrics_services, f"{source}: no Service exposes port {METRICS_PORT} named metrics")
    for where, obj in metrics_services:
        check_scrape_annotations(obj, where)
    for where, obj in by_kind.get("StatefulSet", []):
        check(obj["spec"].get("serviceName") in service_names,
              f"{where}: serviceName {obj['spec'].get('serviceName')!r} is not a Service")
    return sorted((o["kind"], o["metadata"]["name"]) for _, o in objects)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 1
    root = sys.argv[1]
    kustomization = load_all(os.path.join(root, "kustomization.yaml"))[0]
    check(kustomization.get("kind") == "Kustomization" and
          kustomization.get("apiVersion") == "kustomize.config.k8s.io/v1beta1",
          "kustomization.yaml: not a kustomize.config.k8s.io/v1beta1 Kustomization")
    listed = kustomization.get("resources") or []
    files = sorted(f for f in os.listdir(root)
                   if f.endswith((".yaml", ".yml")) and f != "kustomization.yaml")
    objects = []
    examples = {}
    for f in files:
        docs = load_all(os.path.join(root, f))
        check(docs, f"{f}: empty")
        if f.endswith(".example.yaml"):
            check(f not in listed, f"{f}: an example must not be applied")
            for i, doc in enumerate(docs):
                check_object(doc, f"{f}[{i}]")
                if doc.get("kind") == "Secret":
                    examples[doc["metadata"]["name"]] = {
                        **(doc.get("data") or {}), **(doc.get("stringData") or {})}
            continue
        check(f in listed, f"{f}: not listed in kustomization.yaml resources")
        objects += [(f"{f}[{i}]", doc) for i, doc in enumerate(docs)]
    for f in listed:
        check(f in files, f"kustomization.yaml lists {f}, which does not exist")
    expected = check_objects(objects, "manifests")
    check_example_secrets(examples)

    kubectl = shutil.which("kubectl")
    if kubectl:
        run = subprocess.run([kubectl, "kustomize", root], capture_output=True,
                             text=True, timeout=120)
        if check(run.returncode == 0, f"kubectl kustomize failed: {run.stderr.strip()}"):
            built = [(f"kustomize[{i}]", d)
                     for i, d in enumerate(yaml.safe_load_all(run.stdout)) if d]
            got = check_objects(built, "kubectl kustomize")
            check(got == expected,
                  f"kubectl kustomize built {got}, the files hold {expected}")
    else:
        print("kubectl not found: skipped `kubectl kustomize`")

    for f in failures:
        print("FAIL:", f)
    if not failures:
        print(f"ok: {len(files)} files, objects {expected}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
