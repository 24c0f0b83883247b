"""Conventions of the real binaries that generic tools and users rely on:

- `--help` of every binary that is not a test or a benchmark (nnft-server,
  nnft, nnft-healthcheck, nnft-mpi-worker) prints usage with the flags, exit 0
  (the server's, the worker's and the health check's used to print "No flags
  matched" and exit 1); the worker's needs no MPI runtime;
- grpc.health.v1 answers SERVING for the overall "" and for the service
  name "nnft.v1.Nnft" (it answered NOT_FOUND), NOT_FOUND for other names;
- server reflection (grpc.reflection.v1alpha, the only version Debian's
  grpc++ 1.51 reflection library serves) lists nnft.v1.Nnft;
- `nnft submit --watch` ends by printing the result table (not only the
  job's state), with progress lines on stderr carrying a rate in networks/s
  and the time left; with --format json, stdout is one JSON document.

Messages are built by hand (two proto fields each), so the test needs only
python3-grpcio. Run by CTest with the paths of nnft-server and nnft as
arguments, then NAME=PATH of the other binaries (nnft-mpi-worker only where
MPI is found).
"""

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

import grpc

SERVER = CLI = None
MORE = {}  # NAME -> path of the other binaries, from NAME=PATH arguments
SPEC = {
    "architecture": {"mlp": {"inputDim": 1, "widths": [256],
                             "activation": "ACTIVATION_ERF",
                             "sw": [1.5, 1.0], "sb": [0.5, 0.0]}},
    "points": [{"x": [0.3]}, {"x": [1.0]}],
    "observables": {"orders": [2, 4]},
    # About 3 s on one core: long enough for progress lines 1 s apart.
    "sampling": {"seed": "3", "numNetworks": "400000", "chunkSize": 5000},
}
SERVING = 1  # grpc.health.v1.HealthCheckResponse.SERVING


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120,
                          **kw)


class Server:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nnft-conventions-")
        self.proc = subprocess.Popen(
            [SERVER, "--listen=127.0.0.1:0", "--data_dir=" + self.dir,
             "--worker_threads=1"], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        found = threading.Event()
        self.address = None

        def read():
            for line in self.proc.stdout:
                m = re.search(r"listening address=\S+:(\d+)", line)
                if m and not found.is_set():
                    self.address = "127.0.0.1:" + m.group(1)
                    found.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not found.wait(30):
            self.stop()
            raise RuntimeError("nnft-server did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        self.reader.join(5)
        shutil.rmtree(self.dir, ignore_errors=True)
        return self.proc.returncode


def _string_field(number, text):
    data = text.encode()
    return bytes([(number << 3) | 2, len(data)]) + data


class HelpTest(unittest.TestCase):
    def test_server_help_lists_its_flags_and_exits_0(self):
        p = run([SERVER, "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("No flags matched", p.stdout)
        self.assertIn("usage: nnft-server", p.stdout)
        for flag in ("--listen", "--data_dir", "--worker_threads",
                     "--health_listen", "--token_file"):
            self.assertIn(flag, p.stdout)

    def test_cli_help_lists_commands_and_flags(self):
        p = run([CLI, "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("usage: nnft", p.stdout)
        for word in ("submit", "watch", "result", "--server", "--format"):
            self.assertIn(word, p.stdout)


class MoreBinariesHelpTest(unittest.TestCase):
    """--help of the binaries beside the server and the CLI."""

    def help_of(self, name, flags, env=None):
        if name not in MORE:
            self.skipTest("%s not built (not passed by CMake)" % name)
        p = run([MORE[name], "--help"], env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("No flags matched", p.stdout)
        self.assertIn("usage: ", p.stdout)
        self.assertIn(name, p.stdout)
        for flag in flags:
            self.assertRegex(p.stdout, r"(?m)^  %s  \S" % re.escape(flag))
        return p

    def test_healthcheck_help_lists_its_flags_and_exits_0(self):
        self.help_of("nnft-healthcheck",
                     ("--addr", "--service", "--timeout", "--tls_ca"))

    def test_mpi_worker_help_needs_no_mpi_runtime(self):
        # An Open MPI that cannot start (no such point-to-point layer) makes
        # MPI_Init fail: --help must answer before it.
        env = dict(os.environ, OMPI_MCA_pml="no_such_pml")
        self.help_of("nnft-mpi-worker",
                     ("--spec", "--networks", "--out", "--threads", "--block",
                      "--stream", "--chunks", "--expect_digest"), env=env)

    def test_every_expected_binary_was_passed(self):
        self.assertIn("nnft-healthcheck", MORE)


class ServerConventionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.channel = grpc.insecure_channel(cls.server.address)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        assert cls.server.stop() == 0

    def health(self, service):
        check = self.channel.unary_unary("/grpc.health.v1.Health/Check")
        reply = check(_string_field(1, service) if service else b"",
                      timeout=10)
        # HealthCheckResponse {ServingStatus status = 1}: b"\x08" + status.
        return reply[1] if reply[:1] == b"\x08" else 0

    def test_health_per_service(self):
        self.assertEqual(self.health(""), SERVING)
        self.assertEqual(self.health("nnft.v1.Nnft"), SERVING)
        with self.assertRaises(grpc.RpcError) as cm:
            self.health("no.such.Service")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_reflection_v1alpha_lists_the_service(self):
        info = self.channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
        # ServerReflectionRequest {string list_services = 7}.
        replies = list(info(iter([_string_field(7, "*")]), timeout=10))
        self.assertEqual(len(replies), 1)
        self.assertIn(b"nnft.v1.Nnft", replies[0])
        self.assertIn(b"grpc.health.v1.Health", replies[0])

    def test_submit_watch_prints_the_result_and_a_rate(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "spec.json")
            with open(path, "w") as f:
                json.dump(SPEC, f)
            p = run([CLI, "--server", self.server.address, "submit", path,
                     "--watch"])
            self.assertEqual(p.returncode, 0, p.stderr)
            # The job, then the result table: a row per tuple with the
            # estimate beside exact theory.
            self.assertRegex(p.stdout, r"state:\s+SUCCEEDED")
            rows = [ln.split() for ln in p.stdout.splitlines()
                    if ln.startswith("(")]
            self.assertEqual([r[0] for r in rows][:3],
                             ["(0,0)", "(0,1)", "(1,1)"])
            for r in rows:
                mean, err = float(r[1]), float(r[3])
                self.assertTrue(math.isfinite(mean) and mean != 0, r)
                self.assertGreater(err, 0, r)
            rates = re.findall(r"(\S+) networks/s ETA (\S+)", p.stderr)
            self.assertTrue(rates, p.stderr)
            measured = [float(r) for r, _ in rates if r != "?"]
            self.assertTrue(measured and all(r > 0 for r in measured),
                            p.stderr)

            spec2 = dict(SPEC, sampling=dict(SPEC["sampling"],
                                             numNetworks="20000"))
            with open(path, "w") as f:
                json.dump(spec2, f)
            p = run([CLI, "--server", self.server.address, "submit", path,
                     "--watch", "--format", "json"])
            self.assertEqual(p.returncode, 0, p.stderr)
            doc = json.loads(p.stdout)  # one document: the result
            self.assertIn("SUCCEEDED", p.stderr)
            mean = doc["entries"]["estimate"]["mean"]
            self.assertEqual(len(mean), 8)  # 3 two-point, 5 four-point
            self.assertTrue(all(math.isfinite(v) and v != 0 for v in mean))


if __name__ == "__main__":
    SERVER, CLI = sys.argv[1], sys.argv[2]
    while len(sys.argv) > 3 and "=" in sys.argv[3] and \
            not sys.argv[3].startswith("-"):
        name, path = sys.argv.pop(3).split("=", 1)
        MORE[name] = path
    del sys.argv[1:3]
    unittest.main()
