#!/usr/bin/python3
"""Width-sweep results as exact numbers, for tests/deploy/container_e2e_test.sh.

  container_result.py python ADDR SPEC.json OUT.json
      submits SPEC with the Python client (nnft.Client), waits, and writes
      the result's numbers and the server's engine fingerprint to OUT.json
  container_result.py cli CLI_RESULT.json FINGERPRINT OUT.json
      the same numbers from `nnft result JOB --format json` (protobuf JSON
      prints doubles so that they read back exactly)
  container_result.py compare A.json B.json bits|sigma:K
      bits: every number identical (NaN equal to NaN); sigma:K: every mean
      and connected value within K combined standard errors. Prints one line
      per width and the verdict; exit 0 when they agree, 1 when not.

OUT.json: {"fingerprint", "widths", "tuples", and per field a [width][entry]
list of float.hex strings: mean, stderr, connected, connected_stderr; "fits":
[[tuple, exponent, exponent_stderr] as hex]}. Run with
PYTHONPATH=<build>/python /usr/bin/python3.
"""

import json
import math
import sys

FIELDS = ("mean", "stderr", "connected", "connected_stderr")


def hexes(values):
    return [float(v).hex() for v in values]


def from_python(addr, spec_path, out):
    import nnft
    with nnft.Client(addr, timeout=60) as client:
        info = client.info()
        job = client.submit(spec_path)
        r = job.result(timeout=1800)
        if r.sweep is None:
            raise SystemExit(f"{job.name}: not a width-sweep result")
        s = r.sweep
        doc = {"job": job.name, "fingerprint": info.engine_fingerprint,
               "widths": [int(w) for w in s.widths],
               "tuples": [list(map(int, t)) for t in s.tuples],
               "fits": [[list(map(int, f.tuple)), float(f.exponent).hex(),
                         float(f.exponent_stderr).hex()] for f in s.fits]}
        for f in FIELDS:
            doc[f] = [hexes(row) for row in getattr(s, f)]
    with open(out, "w") as fp:
        json.dump(doc, fp, indent=1)
    print(f"python client: {job.name} {len(doc['widths'])} widths, "
          f"engine {doc['fingerprint']}")


def number(v):
    return float(v)  # protobuf JSON writes NaN and Infinity as strings


def field(msg, name, default):
    """A field of protobuf JSON by its proto name or its lowerCamelCase name
    (the CLI prints proto names; absent means the default)."""
    if name in msg:
        return msg[name]
    parts = name.split("_")
    return msg.get(parts[0] + "".join(p.title() for p in parts[1:]), default)


def from_cli(path, fingerprint, out):
    with open(path) as fp:
        cli = json.load(fp)
    blocks = {}
    for b in cli["widths"]:
        blocks.setdefault(b["width"], []).append(b)
    widths = sorted(blocks)
    doc = {"fingerprint": fingerprint, "widths": widths, "tuples": None,
           "fits": []}
    for f in FIELDS:
        doc[f] = []
    for w in widths:
        rows = {f: [] for f in FIELDS}
        tuples = []
        for b in sorted(blocks[w], key=lambda b: int(field(b["entries"], "offset", 0))):
            est = b["entries"]["estimate"]
            tuples += [list(map(int, t.get("index", []))) for t in est["tuples"]]
            for f in FIELDS:
                rows[f] += hexes(number(v) for v in field(est, f, []))
        doc["tuples"] = doc["tuples"] or tuples
        for f in FIELDS:
            doc[f].append(rows[f])
    for fit in cli.get("fits", []):
        doc["fits"].append([list(map(int, fit["tuple"]["index"])),
                            number(field(fit, "exponent", 0)).hex(),
                            number(field(fit, "exponent_stderr", 0)).hex()])
    with open(out, "w") as fp:
        json.dump(doc, fp, indent=1)
    print(f"cli: {len(widths)} widths, engine {fingerprint}")


def same(a, b):
    x, y = float.fromhex(a), float.fromhex(b)
    return (math.isnan(x) and math.isnan(y)) or x == y


def compare(path_a, path_b, mode):
    with open(path_a) as fp:
        a = json.load(fp)
    with open(path_b) as fp:
        b = json.load(fp)
    print(f"A engine: {a['fingerprint']}\nB engine: {b['fingerprint']}")
    ok = a["widths"] == b["widths"] and a["tuples"] == b["tuples"]
    if not ok:
        print(f"FAIL: widths/tuples differ: {a['widths']} {b['widths']}")
        return 1
    k = None if mode == "bits" else float(mode.split(":", 1)[1])
    worst = 0.0
    for i, w in enumerate(a["widths"]):
        differ, n = 0, 0
        for f in FIELDS:
            if len(a[f][i]) != len(b[f][i]) or not a[f][i]:
                print(f"FAIL: width {w}: {f} has {len(a[f][i])} and "
                      f"{len(b[f][i])} entries")
                return 1
            for x, y in zip(a[f][i], b[f][i]):
                n += 1
                differ += not same(x, y)
        line = f"width {w}: {n - differ}/{n} numbers bit-identical"
        if k is not None:
            for f, e in (("mean", "stderr"), ("connected", "connected_stderr")):
                for j, (x, y) in enumerate(zip(a[f][i], b[f][i])):
                    x, y = float.fromhex(x), float.fromhex(y)
                    sx = float.fromhex(a[e][i][j])
                    sy = float.fromhex(b[e][i][j])
                    s = math.hypot(sx, sy)
                    if math.isfinite(x) and math.isfinite(y) and s > 0:
                        worst = max(worst, abs(x - y) / s)
            line += f"; worst |A-B|/sigma so far {worst:.2f}"
        print(line)
        if k is None and differ:
            ok = False
    fits_same = all(same(x, y) for fa, fb in zip(a["fits"], b["fits"])
                    for x, y in zip(fa[1:], fb[1:])) and len(a["fits"]) == len(b["fits"])
    print(f"power-law fits: {'bit-identical' if fits_same else 'differ'}")
    if k is None:
        ok = ok and fits_same
    else:
        ok = worst <= k
    print("agree" if ok else "DISAGREE", f"({mode})")
    return 0 if ok else 1


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "python" and len(sys.argv) == 5:
        return from_python(*sys.argv[2:]) or 0
    if len(sys.argv) >= 2 and sys.argv[1] == "cli" and len(sys.argv) == 5:
        return from_cli(*sys.argv[2:]) or 0
    if len(sys.argv) >= 2 and sys.argv[1] == "compare" and len(sys.argv) == 5:
        return compare(*sys.argv[2:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
