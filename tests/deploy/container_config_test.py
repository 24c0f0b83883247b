#!/usr/bin/python3
"""Static consistency of deploy/Dockerfile and deploy/docker-compose.yml
(no Docker engine needed): the runtime stage runs as a non-root user; its
ENTRYPOINT's --listen port is the EXPOSEd port and its --data_dir the
VOLUME; its --metrics_listen binds 0.0.0.0 on an EXPOSEd port;
HEALTHCHECK runs nnft-healthcheck on that port; the compose service
builds this Dockerfile from the repository root, publishes both ports, mounts
a named volume (declared at top level) on the data directory, and health-
checks with nnft-healthcheck.

Usage: container_config_test.py <repo root>. Exit 0 or 1 with failures.
"""

import json
import os
import re
import sys

import yaml

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def runtime_instructions(path):
    lines, logical, stage = [], "", None
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not logical and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                logical += line[:-1] + " "
                continue
            text, logical = (logical + line).strip(), ""
            m = re.match(r"FROM\s+\S+(?:\s+AS\s+(\S+))?", text, re.I)
            if m:
                stage = m.group(1)
            elif text and stage == "runtime":
                keyword, _, rest = text.partition(" ")
                lines.append((keyword.upper(), rest.strip()))
    return lines


def exec_form(rest, where):
    try:
        value = json.loads(rest)
    except ValueError:
        value = None
    check(isinstance(value, list), f"Dockerfile {where} is not in exec form: {rest}")
    return value or []


def main():
    root = sys.argv[1]
    ins = runtime_instructions(os.path.join(root, "deploy", "Dockerfile"))
    by = {}
    for keyword, rest in ins:
        by.setdefault(keyword, []).append(rest)
    user = (by.get("USER") or ["root"])[-1]
    check(user.split(":")[0] not in ("root", "0"), f"runtime USER {user} is root")
    entry = exec_form((by.get("ENTRYPOINT") or ["null"])[-1], "ENTRYPOINT")
    flags = dict(a[2:].split("=", 1) for a in entry if a.startswith("--") and "=" in a)
    check(entry[:1] == ["nnft-server"], f"ENTRYPOINT {entry} does not run nnft-server")
    port = flags.get("listen", "").rpartition(":")[2]
    check(port.isdigit(), f"ENTRYPOINT --listen {flags.get('listen')!r} has no port")
    check(flags.get("listen", "").startswith("0.0.0.0:"),
          "ENTRYPOINT --listen must bind 0.0.0.0 to be reachable from outside")
    check(port in " ".join(by.get("EXPOSE", [])).split(),
          f"port {port} is not EXPOSEd {by.get('EXPOSE')}")
    data_dir = flags.get("data_dir")
    volumes = [v for rest in by.get("VOLUME", []) for v in exec_form(rest, "VOLUME")]
    check(data_dir in volumes, f"--data_dir {data_dir} is not a VOLUME {volumes}")
    metrics_port = flags.get("metrics_listen", "").rpartition(":")[2]
    check(flags.get("metrics_listen", "").startswith("0.0.0.0:") and metrics_port.isdigit(),
          f"ENTRYPOINT --metrics_listen {flags.get('metrics_listen')!r} must bind 0.0.0.0:<port>")
    check(metrics_port in " ".join(by.get("EXPOSE", [])).split(),
          f"metrics port {metrics_port} is not EXPOSEd {by.get('EXPOSE')}")
    health = (by.get("HEALTHCHECK") or [""])[-1]
    check("CMD" in health and "nnft-healthcheck" in health and f":{port}" in health,
          f"HEALTHCHECK does not run nnft-healthcheck on port {port}: {health}")

    with open(os.path.join(root, "deploy", "docker-compose.yml")) as f:
        compose = yaml.safe_load(f)
    services = compose.get("services") or {}
    if check(len(services) == 1, f"compose: want one service, got {list(services)}"):
        (name, svc), = services.items()
        build = svc.get("build") or {}
        context = os.path.normpath(os.path.join(root, "deploy", build.get("context", ".")))
        check(context == os.path.normpath(root), f"compose {name}: build context {context} is not the repository root")
        check(build.get("dockerfile") == "deploy/Dockerfile",
              f"compose {name}: dockerfile {build.get('dockerfile')!r}")
        check(any(str(p).endswith(f":{port}") for p in svc.get("ports") or []),
              f"compose {name}: container port {port} not published")
        check(any(str(p).endswith(f":{metrics_port}") for p in svc.get("ports") or []),
              f"compose {name}: metrics port {metrics_port} not published")
        mounts = [str(v).split(":") for v in svc.get("volumes") or []]
        named = [m[0] for m in mounts if len(m) >= 2 and m[1] == data_dir]
        check(named and named[0] in (compose.get("volumes") or {}),
              f"compose {name}: no named volume declared and mounted on {data_dir}")
        test = (svc.get("healthcheck") or {}).get("test") or []
        check("nnft-healthcheck" in test and any(f":{port}" in t for t in test),
              f"compose {name}: healthcheck {test} does not run nnft-healthcheck on {port}")
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print(f"ok: port {port}, data dir {data_dir}, user {user}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
