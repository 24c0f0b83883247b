#!/usr/bin/python3
"""Checks deploy/Dockerfile without a Docker engine.

1. Runtime libraries: every shared library the built binaries load (ldd)
   belongs to a Debian package (dpkg -S) that the runtime stage installs
   with apt-get, or to one debian:bookworm-slim already has (libc6,
   libstdc++6, libgcc-s1); the runtime stage copies every binary checked.
2. Build steps: the build stage runs the commands of the README's test
   command (tests/run_all.sh: install_deps, cmake configure, cmake --build,
   ctest), in order and token for token, plus -DNNFT_MARCH=<portable value>
   on the configure line and `-LE npm` on the ctest line (the tests that
   fetch packages from the npm registry run on the host only). The sanitizer and fuzzing stage that run_all.sh
   runs afterwards (tests/sanitize.sh: clang trees, the better part of an
   hour) is not repeated in the image build.

Usage: docker_deps_test.py <repo root> <bin dir> <binary>...
Exit 0 on success, 1 with one line per failure, 77 (CTest SKIP) when
nnft-server is not built.
"""

import os
import re
import shlex
import subprocess
import sys

BASE_IMAGE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1"}
# Commands of tests/run_all.sh that a build must repeat, and the script the
# image build leaves out.
BUILD_COMMANDS = {"bash", "cmake", "ctest"}
SANITIZER_STAGE = "$root/tests/sanitize.sh"
# The label the image's ctest run must exclude: those tests run `npm ci`.
IMAGE_EXCLUDED_LABEL = "npm"

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def dockerfile_stages(path):
    """[(stage name, [instruction lines with continuations joined])]."""
    stages = []
    logical = ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not logical and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                logical += line[:-1] + " "
                continue
            logical += line
            text = logical.strip()
            logical = ""
            if not text:
                continue
            m = re.match(r"FROM\s+\S+(?:\s+AS\s+(\S+))?", text, re.IGNORECASE)
            if m:
                stages.append((m.group(1) or str(len(stages)), []))
            elif stages:
                stages[-1][1].append(text)
    return dict(stages)


def run_commands(instructions):
    """Commands of the RUN instructions, split on &&, as token lists."""
    commands = []
    for ins in instructions:
        if not ins.upper().startswith("RUN "):
            continue
        for part in ins[4:].split("&&"):
            tokens = shlex.split(part.strip())
            if tokens:
                commands.append(tokens)
    return commands


def apt_packages(instructions):
    packages = set()
    for tokens in run_commands(instructions):
        if tokens[:2] == ["apt-get", "install"]:
            packages |= {t for t in tokens[2:] if not t.startswith("-")}
    return packages


def script_commands(path):
    """(commands, assignments) of a shell script of simple lines."""
    commands, assignments = [], {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or line.startswith("set "):
                continue
            m = re.fullmatch(r"(\w+)=(.*)", line)
            if m:
                assignments[m.group(1)] = m.group(2)
                continue
            commands.append(shlex.split(line))
    return commands, assignments


def packages_of(paths):
    """{path: Debian package} by one dpkg -S call (plus one for the real
    paths of those not found, e.g. libraries reached through a symlink)."""
    owners = {}

    def query(candidates):
        if not candidates:
            return
        run = subprocess.run(["dpkg", "-S", *sorted(set(candidates))],
                             capture_output=True, text=True)
        for line in run.stdout.splitlines():
            package, _, path = line.partition(": ")
            if path in candidates:
                for original in candidates[path]:
                    owners[original] = package.split(":")[0].strip()

    query({p: [p] for p in paths})
    real = {}
    for p in paths:
        if p not in owners:
            real.setdefault(os.path.realpath(p), []).append(p)
    query(real)
    return owners


def loaded_libraries(binary):
    """Paths of the shared libraries `binary` loads (ldd)."""
    run = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if not check(run.returncode == 0, f"ldd {binary} failed: {run.stderr.strip()}"):
        return []
    paths = []
    for line in run.stdout.splitlines():
        if "not found" in line:
            failures.append(f"{binary}: {line.strip()}")
            continue
        m = re.search(r"(/\S+)\s+\(0x", line)
        if m:  # linux-vdso has no file
            paths.append(m.group(1))
    return paths


def check_runtime(stages, bin_dir, binaries):
    runtime = stages.get("runtime")
    if not check(runtime, "Dockerfile: no stage named runtime"):
        return
    installed = apt_packages(runtime)
    copied = " ".join(i for i in runtime if i.upper().startswith("COPY"))
    paths = set()
    for name in binaries:
        check(re.search(r"/bin/" + re.escape(name) + r"\b", copied),
              f"runtime stage does not copy {name}")
        paths.update(loaded_libraries(os.path.join(bin_dir, name)))
    owners = packages_of(paths)
    needed = {}
    for path in sorted(paths):
        if check(path in owners, f"{path} belongs to no Debian package"):
            needed.setdefault(owners[path], set()).add(os.path.basename(path))
    for package, libs in sorted(needed.items()):
        if package in BASE_IMAGE_PACKAGES:
            continue
        check(package in installed, f"runtime stage lacks {package} "
              f"(provides {', '.join(sorted(libs))})")
    extra = installed - set(needed)
    if extra:
        print("note: runtime packages no binary loads:", " ".join(sorted(extra)))
    print("runtime packages needed:", " ".join(sorted(set(needed) - BASE_IMAGE_PACKAGES)))


def check_build_steps(stages, run_all):
    build = stages.get("build")
    if not check(build, "Dockerfile: no stage named build"):
        return
    want, want_vars = script_commands(run_all)
    want = [c for c in want
            if c[0] in BUILD_COMMANDS and SANITIZER_STAGE not in c]
    got = [c for c in run_commands(build) if c[0] in BUILD_COMMANDS]
    march = [t for c in got for t in c if t.startswith("-DNNFT_MARCH=")]
    if check(len(march) == 1, f"build stage: {len(march)} -DNNFT_MARCH flags, want 1"):
        check(march[0].split("=", 1)[1] not in ("", "native"),
              f"build stage: {march[0]} is not portable")
    got = [[t for t in c if not t.startswith("-DNNFT_MARCH=")] for c in got]
    for c in got:
        if c[0] != "ctest":
            continue
        pairs = [i for i in range(len(c) - 1)
                 if c[i] == "-LE" and c[i + 1] == IMAGE_EXCLUDED_LABEL]
        if check(len(pairs) == 1, "build stage: ctest must exclude the "
                 f"{IMAGE_EXCLUDED_LABEL} label once (-LE {IMAGE_EXCLUDED_LABEL})"):
            del c[pairs[0]:pairs[0] + 2]
    check(got == want, "build stage commands differ from tests/run_all.sh:\n"
          f"  Dockerfile: {got}\n  run_all.sh: {want}")
    # The variables the commands use must mean the same in both.
    got_vars = {}
    for tokens in run_commands(build):
        for t in tokens:
            m = re.fullmatch(r"(\w+)=(.*)", t)
            if m:
                got_vars[m.group(1)] = m.group(2)
    for name in ("build", "jobs"):
        value = want_vars.get(name, "")
        value = re.sub(r"^\"?\$\{\w+:-(.*)\}\"?$", r"\1", value)  # ${X:-default}
        check(got_vars.get(name) == value.strip('"'),
              f"build stage: {name}={got_vars.get(name)!r}, "
              f"run_all.sh: {name}={value!r}")


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 1
    root, bin_dir, binaries = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not os.path.exists(os.path.join(bin_dir, "nnft-server")):
        print(f"SKIP: {bin_dir}/nnft-server is not built")
        return 77
    stages = dockerfile_stages(os.path.join(root, "deploy", "Dockerfile"))
    check_runtime(stages, bin_dir, binaries)
    check_build_steps(stages, os.path.join(root, "tests", "run_all.sh"))
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("ok:", ", ".join(binaries))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
