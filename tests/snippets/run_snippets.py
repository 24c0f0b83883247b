#!/usr/bin/env python3
"""Runs the documented quick starts, so the READMEs cannot rot.

A fenced code block is a snippet when the line just before its opening fence
(blank lines allowed between) is exactly one of

    <!-- snippet-test: python -->
    <!-- snippet-test: node -->
    <!-- snippet-test: sh -->

Every snippet of README.md, client/python/README.md and client/node/README.md
is run as written against a real nnft-server that this script starts (port 0,
a temporary data dir). The one change made to the text: the documented
default address 127.0.0.1:50051 (also localhost:50051) becomes the test
server's address, so the test never collides with a server already on 50051.
A snippet passes when it exits 0 and its standard output holds at least one
nonzero finite number written with a decimal point or an exponent (addresses,
versions and integers such as counts do not count: a quick start that prints
only zeros, NaNs or job names fails).

How each language runs (the working directory is a fresh folder per README,
shared by its snippets in document order, holding a symlink to every
top-level entry of the source tree and `build` -> the build tree, so relative
paths such as ./client/node or build/bin/nnft resolve as from the
repository root):
  python: the block written to snippet_N.py, run by the given interpreter
          with PYTHONPATH=<build>/python and MPLBACKEND=Agg;
  node:   written to snippet_N.js (CommonJS), or snippet_N.mjs when a line
          starts with `import` or `export`; client/node/node_modules is
          installed with `npm ci` first when missing;
  sh:     bash -e -o pipefail on the block, with <build>/bin first on PATH.
NNFT_SERVER holds the test server's address for all of them.

A README with no marked block is reported and skipped; no marked block in
any of the files is a failure (the test would check nothing), as is a marker
not followed by a fenced block or naming another language.
"""

import argparse
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

FILES = ("README.md", "client/python/README.md", "client/node/README.md")
LANGS = ("python", "node", "sh")
DEFAULT_ADDRESSES = ("127.0.0.1:50051", "localhost:50051")
MARKER = re.compile(r"^\s*<!--\s*snippet-test:\s*(\S+)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)\s*$")
# Numbers with a decimal point or an exponent; dotted runs of three or more
# groups (addresses, versions) are removed before matching.
DOTTED = re.compile(r"\d+(?:\.\d+){2,}(?::\d+)?")
FLOAT = re.compile(
    r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?"
    r"(?![\w.])")
SNIPPET_TIMEOUT_S = 600  # sanitizer trees run the server about 20 times slower
START_TIMEOUT_S = 30


class Snippet:
    def __init__(self, path, line, lang, text):
        self.path, self.line, self.lang, self.text = path, line, lang, text

    def where(self):
        return "%s:%d (%s)" % (self.path, self.line, self.lang)


def extract(path, rel):
    """The marked snippets of one Markdown file; raises ValueError on a
    marker without a block or with an unknown language."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, i = [], 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if not m:
            i += 1
            continue
        lang, marker_line = m.group(1), i + 1
        if lang not in LANGS:
            raise ValueError("%s:%d: snippet-test language %r: must be one "
                             "of %s" % (rel, marker_line, lang,
                                        ", ".join(LANGS)))
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        f = FENCE.match(lines[i]) if i < len(lines) else None
        if not f:
            raise ValueError("%s:%d: snippet-test marker not followed by a "
                             "fenced code block" % (rel, marker_line))
        indent, fence = f.group(1), f.group(2)
        start, body = i + 1, []
        i += 1
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i][len(indent):] if lines[i].startswith(indent)
                        else lines[i])
            i += 1
        if i == len(lines):
            raise ValueError("%s:%d: unterminated code block" % (rel, start))
        out.append(Snippet(rel, start, lang, "\n".join(body) + "\n"))
        i += 1
    return out


def nonzero_numbers(text):
    """The nonzero finite numbers with a point or an exponent in text."""
    found = []
    for tok in FLOAT.findall(DOTTED.sub(" ", text)):
        try:
            v = float(tok)
        except ValueError:
            continue
        if math.isfinite(v) and v != 0.0:
            found.append(tok)
    return found


class Server:
    """nnft-server on 127.0.0.1:0 with a temporary data dir."""

    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="nnft-snippets-")
        self.log, self.address = [], None
        found = threading.Event()
        self.proc = subprocess.Popen(
            [binary, "--listen=127.0.0.1:0", "--data_dir=" + self.dir,
             "--worker_threads=2"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def read():
            for line in self.proc.stdout:
                self.log.append(line)
                m = re.search(r"listening address=(\S+):(\d+)", line)
                if m and not found.is_set():
                    self.address = "127.0.0.1:" + m.group(2)
                    found.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not found.wait(START_TIMEOUT_S):
            self.stop()
            raise RuntimeError("nnft-server did not start:\n" +
                               "".join(self.log))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        shutil.rmtree(self.dir, ignore_errors=True)
        return self.proc.returncode


def workdir(source, build):
    """A fresh folder that looks like the repository root."""
    d = tempfile.mkdtemp(prefix="nnft-snippet-run-")
    for name in os.listdir(source):
        if name != ".git":
            os.symlink(os.path.join(source, name), os.path.join(d, name))
    if not os.path.exists(os.path.join(d, "build")):
        os.symlink(build, os.path.join(d, "build"))
    return d


def ensure_node_modules(source, npm):
    pkg = os.path.join(source, "client", "node")
    if not os.path.isdir(os.path.join(pkg, "node_modules")):
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=pkg,
                       check=True)


def run(snippet, n, cwd, args, address):
    text = snippet.text
    for a in DEFAULT_ADDRESSES:
        text = text.replace(a, address)
    env = dict(os.environ, NNFT_SERVER=address, MPLBACKEND="Agg",
               PYTHONPATH=os.path.join(args.build_dir, "python"),
               PATH=os.path.join(args.build_dir, "bin") + os.pathsep +
               os.environ.get("PATH", ""))
    if snippet.lang == "python":
        name = "snippet_%d.py" % n
        cmd = [args.python, name]
    elif snippet.lang == "node":
        module = re.search(r"^\s*(import|export)\s", text, re.M)
        name = "snippet_%d.%s" % (n, "mjs" if module else "js")
        cmd = [args.node, name]
    else:
        name = "snippet_%d.sh" % n
        cmd = ["bash", "-e", "-o", "pipefail", name]
    with open(os.path.join(cwd, name), "w", encoding="utf-8") as f:
        f.write(text)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                           text=True, timeout=SNIPPET_TIMEOUT_S)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = "timeout", e.stdout or "", e.stderr or ""
        out = out.decode() if isinstance(out, bytes) else out
        err = err.decode() if isinstance(err, bytes) else err
    return rc, out, err, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--server", required=True, help="nnft-server binary")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--node", default="node")
    ap.add_argument("--npm", default="npm")
    ap.add_argument("--list", action="store_true",
                    help="only list the snippets found")
    args = ap.parse_args()
    source = os.path.abspath(args.source_dir)
    args.build_dir = os.path.abspath(args.build_dir)

    per_file = []
    for rel in FILES:
        path = os.path.join(source, rel)
        snippets = extract(path, rel) if os.path.exists(path) else []
        print("%s: %d marked snippet(s)%s" % (
            rel, len(snippets), "" if snippets else ", nothing to run"))
        per_file.append((rel, snippets))
    total = sum(len(s) for _, s in per_file)
    if total == 0:
        print("FAIL: no <!-- snippet-test: LANG --> block in %s" %
              ", ".join(FILES))
        return 1
    if args.list:
        for _, snippets in per_file:
            for s in snippets:
                print("  " + s.where())
        return 0
    if any(s.lang == "node" for _, ss in per_file for s in ss):
        ensure_node_modules(source, args.npm)

    server = Server(args.server)
    failures = 0
    try:
        for rel, snippets in per_file:
            if not snippets:
                continue
            cwd = workdir(source, args.build_dir)
            try:
                for n, s in enumerate(snippets):
                    rc, out, err, secs = run(s, n, cwd, args, server.address)
                    nums = nonzero_numbers(out)
                    ok = rc == 0 and nums
                    print("%s %s: exit %s in %.1f s; %d nonzero finite "
                          "number(s)%s" % (
                              "PASS" if ok else "FAIL", s.where(), rc, secs,
                              len(nums), (", e.g. " + ", ".join(nums[:3]))
                              if nums else ""))
                    if not ok:
                        failures += 1
                        print("---- stdout ----\n%s---- stderr ----\n%s----" %
                              (out[-4000:], err[-4000:]))
            finally:
                shutil.rmtree(cwd, ignore_errors=True)
    finally:
        rc = server.stop()
        if rc != 0:
            print("FAIL: nnft-server exited %s:\n%s" % (rc,
                                                       "".join(server.log)))
            failures += 1
    print("%d of %d snippet(s) passed" % (total - failures, total)
          if failures <= total else "%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
