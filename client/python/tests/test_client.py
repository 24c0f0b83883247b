"""The Python client against a real nnft-server on a real port.

Run: PYTHONPATH=build/python NNFT_SERVER_BINARY=build/bin/nnft-server \
       /usr/bin/python3 -m unittest discover -s client/python/tests
"""

import csv
import io
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import numpy as np
from google.protobuf import json_format

import nnft
import nnft.cli
from nnft import experiments, plot
from nnft.v1 import nnft_pb2

from server import ServerProcess, wait_until

# A well-formed name (16 hex digits) that no job has.
UNKNOWN_JOB = "jobs/00000000deadbeef"

# A small erf net (d = 1, three points): 8 chunks of 500 networks.
POINTS = [0.0, 0.6, 1.2]


def small_spec(seed=11, width=32, num_networks=4000):
    return experiments.mlp(width, POINTS, "erf", sw=[1.0, 1.5], sb=[0.2, 0.1],
                           orders=[2, 4], seed=seed, num_networks=num_networks,
                           chunk_size=500, label="py-test")


def long_spec(seed=5):
    """A job of many chunks, for cancel and deadline tests."""
    return experiments.mlp(2048, experiments.line_points(8, 0, 2), "tanh",
                           orders=[2], seed=seed, num_networks=1 << 26,
                           chunk_size=1000, label="py-test-long")


def raw_result_arrays(stub, name):
    """Means, errors and theory straight from GetResult through the stub."""
    cols = {k: [] for k in ("mean", "stderr", "connected", "exact", "gp",
                            "z_exact", "z_gp")}
    tuples = []
    for piece in stub.GetResult(nnft_pb2.GetResultRequest(name=name),
                                timeout=60):
        if piece.WhichOneof("piece") != "entries":
            continue
        e = piece.entries
        tuples += [tuple(t.index) for t in e.estimate.tuples]
        for k in ("mean", "stderr", "connected"):
            cols[k] += list(getattr(e.estimate, k))
        for k in ("exact", "gp"):
            cols[k] += list(getattr(e.theory, k))
        for k in ("z_exact", "z_gp"):
            cols[k] += list(getattr(e, k))
    return tuples, {k: np.array(v, dtype=float) for k, v in cols.items()}


def assert_bit_equal(test, a, b, what):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    test.assertEqual(a.shape, b.shape, what)
    # NaN (theory unknown) matches NaN whatever its payload; JSON loses it.
    nan = np.isnan(a)
    test.assertTrue(np.array_equal(nan, np.isnan(b)), what + ": NaN places")
    test.assertTrue(np.array_equal(a[~nan].view(np.int64),
                                   b[~nan].view(np.int64)),
                    "%s differs in bits:\n%s\n%s" % (what, a, b))


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise AssertionError("%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


class ClientAgainstServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess()
        cls.client = nnft.Client(cls.server.address, timeout=30)
        cls.job = cls.client.submit(small_spec())
        cls.snapshots = list(cls.job.watch(max_entries=4, timeout=120))
        cls.result = cls.job.result(timeout=120)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        code = cls.server.stop()
        assert code == 0, "nnft-server exited %s:\n%s" % (
            code, "".join(cls.server.log))

    def test_watch_reports_progress_until_success(self):
        snaps = self.snapshots
        self.assertGreaterEqual(len(snaps), 1)
        self.assertEqual(snaps[-1].state, "SUCCEEDED")
        self.assertEqual(snaps[-1].chunks_done, snaps[-1].chunks_total)
        self.assertEqual(snaps[-1].chunks_total, 8)
        done = [s.chunks_done for s in snaps]
        self.assertEqual(done, sorted(done), "progress went backwards")
        self.assertAlmostEqual(snaps[-1].fraction, 1.0)

    def test_result_equals_raw_get_result_bit_for_bit(self):
        tuples, raw = raw_result_arrays(self.client.stub, self.job.name)
        self.assertEqual(self.result.tuples, tuples)
        for k, v in raw.items():
            assert_bit_equal(self, getattr(self.result, k), v, k)
        # Three points, orders 2 and 4: C(4,2) + C(6,4) tuples.
        self.assertEqual(len(self.result), 6 + 15)
        self.assertEqual(self.result.networks, 4000)
        self.assertEqual(self.result.seed, 11)
        self.assertEqual(self.result.kernel.shape, (3, 3))

    def test_result_equals_cpp_cli_json(self):
        cli = os.environ.get("NNFT_CLI_BINARY", "")
        if not os.access(cli, os.X_OK):
            self.skipTest("no nnft CLI at %r" % cli)
        out = subprocess.run(
            [cli, "--server=" + self.server.address, "result",
             self.job.name, "--format=json"],
            capture_output=True, text=True, timeout=60, check=True).stdout
        # {"header": ResultHeader, "entries": EntryBlock, "kernel": [...]},
        # protobuf JSON with the .proto's field names.
        doc = json.loads(out)
        block = json_format.ParseDict(doc["entries"], nnft_pb2.EntryBlock())
        self.assertEqual([tuple(t.index) for t in block.estimate.tuples],
                         self.result.tuples)
        for k in ("mean", "stderr", "connected", "connected_stderr"):
            assert_bit_equal(self, getattr(block.estimate, k),
                             getattr(self.result, k), "CLI " + k)
        for k in ("exact", "gp"):
            assert_bit_equal(self, getattr(block.theory, k),
                             getattr(self.result, k), "CLI " + k)
        assert_bit_equal(self, block.z_exact, self.result.z_exact,
                         "CLI z_exact")
        kernel = [float(v) for v in doc["kernel"]]
        assert_bit_equal(self, kernel, self.result.kernel.ravel(),
                         "CLI kernel")

    def test_two_point_estimates_agree_with_exact_within_five_sigma(self):
        # G2 only: with 8 bins the errors of fourth moments are heavy-tailed
        # (Student t, 7 dof); G4 is checked by the width sweep's fit.
        r = self.result
        ok = np.isfinite(r.exact) & (r.stderr > 0) & (r.orders == 2)
        self.assertGreater(ok.sum(), 0, "no exact theory to compare with")
        z = (r.mean[ok] - r.exact[ok]) / r.stderr[ok]
        self.assertLess(np.max(np.abs(z)), 5.0, "z-scores %s" % z)

    def test_kernel_matches_result_kernel(self):
        k = self.client.kernel(small_spec())
        np.testing.assert_allclose(k.kernel, self.result.kernel, rtol=1e-12)
        np.testing.assert_allclose(k.kernel, k.kernel.T, rtol=1e-12)

    def test_same_spec_from_json_file_gets_same_digest(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json",
                                         delete=False) as f:
            json.dump(nnft.to_dict(small_spec()), f)
        try:
            job = self.client.submit(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(job.job.digest, self.job.job.digest)
        again = job.result(timeout=60)
        assert_bit_equal(self, again.mean, self.result.mean, "mean")

    def test_info_and_jobs_list(self):
        info = self.client.info()
        self.assertTrue(info.version)
        names = [j.name for j in self.client.jobs(page_size=1)]
        self.assertIn(self.job.name, names)
        self.assertEqual(len(names), len(set(names)), "paging repeated jobs")
        done = list(self.client.jobs(states=["SUCCEEDED"]))
        self.assertIn(self.job.name, [j.name for j in done])
        self.assertTrue(all(j.state == "SUCCEEDED" for j in done))

    def test_invalid_width_raises_invalid_argument_naming_field(self):
        with self.assertRaises(nnft.InvalidArgument) as ctx:
            self.client.submit(experiments.mlp(0, POINTS, "erf"))
        msg = str(ctx.exception)
        self.assertTrue(msg.startswith("INVALID_ARGUMENT: "), msg)
        self.assertIn("width", msg)
        self.assertEqual(ctx.exception.status_name, "INVALID_ARGUMENT")

    def test_unset_architecture_names_the_field(self):
        with self.assertRaises(nnft.InvalidArgument) as ctx:
            self.client.submit({"points": [{"x": [0.0]}]})
        self.assertIn("architecture", str(ctx.exception))

    def test_malformed_spec_rejected_on_client_naming_field(self):
        with self.assertRaises(nnft.InvalidSpec) as ctx:
            self.client.submit({"architecture": {"mlp": {"widthz": [3]}}})
        self.assertIn("widthz", str(ctx.exception))

    def test_unknown_job_raises_not_found(self):
        with self.assertRaises(nnft.NotFound) as ctx:
            self.client.job(UNKNOWN_JOB)
        self.assertIn("NOT_FOUND", str(ctx.exception))

    def test_malformed_job_name_is_invalid_argument_naming_field(self):
        with self.assertRaises(nnft.InvalidArgument) as ctx:
            self.client.job("jobs/no-such-job")
        self.assertIn("name", str(ctx.exception))

    def test_result_timeout_leaves_job_running_then_cancel(self):
        job = self.client.submit(long_spec())
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            job.result(timeout=0.5)
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertIn(job.refresh().state, ("QUEUED", "RUNNING"))
        self.assertTrue(job.cancel())
        with self.assertRaises(nnft.JobCancelled):
            job.result(timeout=60)
        self.assertEqual(job.state, "CANCELLED")
        self.assertLess(job.progress.chunks_done, job.progress.chunks_total)

    def test_lost_job_is_resubmitted_with_identical_bits(self):
        job = self.client.submit(small_spec(seed=12))
        first = job.result(timeout=60)
        job.delete()
        with self.assertRaises(nnft.NotFound):
            self.client.job(job.name)
        second = job.result(timeout=60)
        self.assertEqual(job.resubmissions, 1)
        assert_bit_equal(self, second.mean, first.mean, "mean")
        assert_bit_equal(self, second.connected, first.connected, "connected")

    def test_progress_bar_writes_plain_lines_off_terminal(self):
        out = io.StringIO()
        final = self.job.progress_bar(file=out, timeout=30)
        self.assertEqual(final.state, nnft_pb2.Job.SUCCEEDED)
        self.assertIn("SUCCEEDED", out.getvalue())
        self.assertIn("chunks 8/8", out.getvalue())

    def test_correlator_plot_is_png_of_requested_size(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "g2.png")
            plot.plot_correlator(self.result, out=path, figsize=(5, 3),
                                 dpi=80)
            self.assertEqual(png_size(path), (400, 240))
            self.assertGreater(os.path.getsize(path), 2000)

    def test_cli_plot_and_result(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cli.png")
            out = io.StringIO()
            rc = nnft.cli.main(["--server", self.server.address, "plot",
                                self.job.name, "--out", path], out=out)
            self.assertEqual(rc, 0)
            self.assertEqual(png_size(path), (640, 480))
            out = io.StringIO()
            rc = nnft.cli.main(["--server", self.server.address, "result",
                                self.job.name, "--format", "json"], out=out)
            self.assertEqual(rc, 0)
            d = json.loads(out.getvalue())
            assert_bit_equal(self, d["mean"], self.result.mean, "cli mean")
        rc = subprocess.run([sys.executable, "-m", "nnft", "--server",
                             self.server.address, "get", UNKNOWN_JOB],
                            capture_output=True, text=True, timeout=60)
        self.assertEqual(rc.returncode, 1)
        self.assertIn("NOT_FOUND", rc.stderr)


class WidthSweepTest(unittest.TestCase):
    """|G4_c| of a single-layer erf net falls exactly as 1/N."""

    def test_fitted_exponent_is_minus_one_within_five_sigma(self):
        server = ServerProcess()
        try:
            client = nnft.Client(server.address)
            base = experiments.mlp(8, [0.3, 1.0], "erf", sw=[1.5, 1.0],
                                   tuples=[[0, 0, 1, 1]], seed=3,
                                   num_networks=200000, chunk_size=10000)
            jobs = [client.submit(s) for s in
                    experiments.width_copies(base, [2, 4, 8, 16])]
            results = [j.result(timeout=120) for j in jobs]
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "sweep.png")
                _, fit = plot.plot_width_sweep(results, out=path)
                self.assertEqual(png_size(path), (640, 480))
            self.assertGreater(fit.exponent_err, 0)
            self.assertLess(abs(fit.exponent + 1.0), 5 * fit.exponent_err,
                            "exponent %.3f +- %.3f" % (fit.exponent,
                                                       fit.exponent_err))
        finally:
            client.close()
            self.assertEqual(server.stop(), 0)


class ServerWidthSweepTest(unittest.TestCase):
    """One width-sweep experiment (experiments.width_sweep): the server's
    fitted exponents of G4_c and G6_c of a single-layer erf net are within
    3 sigma of -1 and -2; snapshots stream the fits; the plot command draws
    the sweep."""

    def test_sweep_job_fits_plots_and_streams(self):
        server = ServerProcess()
        client = nnft.Client(server.address)
        try:
            base = experiments.mlp(1, [0.5, -1.0], "erf", sw=[2.0, 1.0],
                                   tuples=[[0, 1], [0, 0, 1, 1],
                                           [0, 0, 0, 1, 1, 1]],
                                   seed=5, num_networks=100000,
                                   chunk_size=2000, integrate_output_layer=True)
            spec = experiments.width_sweep(base, [16, 2, 4, 8, 32])
            self.assertEqual(list(spec.width_sweep.widths), [16, 2, 4, 8, 32])
            job = client.submit(spec)
            snapshots = list(job.watch(timeout=120))
            self.assertTrue(any(s.sweep_widths for s in snapshots))
            r = job.result(timeout=120)
            sw = r.sweep
            self.assertIsNotNone(sw)
            self.assertEqual(sw.widths.tolist(), [2, 4, 8, 16, 32])
            self.assertEqual(sw.connected.shape, (5, 3))
            self.assertEqual(len(sw.fits), 2)
            for f in sw.fits:
                self.assertEqual(f.expected_exponent, -(f.order // 2 - 1))
                self.assertLess(abs(f.exponent - f.expected_exponent),
                                3 * f.exponent_stderr,
                                "G%d_c: %.4f +- %.4f" % (
                                    f.order, f.exponent, f.exponent_stderr))
            self.assertTrue(np.all(np.abs(sw.z_exact_connected) < 4))
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "sweep.png")
                out = io.StringIO()
                rc = nnft.cli.main(["--server", server.address, "plot",
                                    job.name, "--out", path], out=out)
                self.assertEqual(rc, 0)
                self.assertGreater(os.path.getsize(path), 1000)
                self.assertEqual(png_size(path), (640, 480))
                self.assertIn("G6_c", out.getvalue())
            out = io.StringIO()
            rc = nnft.cli.main(["--server", server.address, "result",
                                job.name], out=out)
            self.assertEqual(rc, 0)
            self.assertIn("fits |G_c| = A N^s", out.getvalue())
        finally:
            client.close()
            self.assertEqual(server.stop(), 0)


class DeadlineTest(unittest.TestCase):
    def test_unary_call_to_silent_peer_is_deadline_exceeded(self):
        # A peer that accepts TCP but never speaks HTTP/2: only the deadline
        # ends the call. (Sub-millisecond deadlines against a fast server
        # race with gRPC's millisecond timers, so they make no test.)
        with socket.socket() as peer:
            peer.bind(("127.0.0.1", 0))
            peer.listen()
            client = nnft.Client("127.0.0.1:%d" % peer.getsockname()[1])
            t0 = time.monotonic()
            with self.assertRaises(nnft.DeadlineExceeded) as ctx:
                client.info(timeout=0.3)
            elapsed = time.monotonic() - t0
            client.close()
        self.assertIsInstance(ctx.exception, TimeoutError)
        self.assertIn("DEADLINE_EXCEEDED", str(ctx.exception))
        self.assertGreater(elapsed, 0.25)
        self.assertLess(elapsed, 3.0)


class RetryTest(unittest.TestCase):
    def test_unavailable_is_retried_until_deadline(self):
        port = _free_port()
        client = nnft.Client("127.0.0.1:%d" % port)
        t0 = time.monotonic()
        with self.assertRaises(nnft.Unavailable) as ctx:
            client.info(timeout=0.6)
        self.assertIn("UNAVAILABLE", str(ctx.exception))
        # Gave up only when the next backoff would pass the deadline.
        self.assertGreater(time.monotonic() - t0, 0.2)
        client.close()

    def test_call_succeeds_once_server_comes_up(self):
        port = _free_port()
        client = nnft.Client("127.0.0.1:%d" % port)
        answer = {}

        def call():
            try:
                answer["info"] = client.info(timeout=30)
            except Exception as err:  # reported below
                answer["error"] = err

        t = threading.Thread(target=call)
        t.start()
        time.sleep(0.8)
        server = ServerProcess(listen="127.0.0.1:%d" % port)
        try:
            t.join(40)
            self.assertNotIn("error", answer)
            self.assertTrue(answer["info"].version)
        finally:
            client.close()
            self.assertEqual(server.stop(), 0)


class CommandLineTest(unittest.TestCase):
    def test_submit_watch_then_result_csv(self):
        server = ServerProcess()
        try:
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "spec.json")
                with open(path, "w") as f:
                    json.dump(nnft.to_dict(small_spec(seed=13)), f)
                out = io.StringIO()
                rc = nnft.cli.main(["--server", server.address, "submit",
                                    path, "--watch"], out=out)
                self.assertEqual(rc, 0)
                name = out.getvalue().split()[0]
                self.assertTrue(name.startswith("jobs/"), name)
                out = io.StringIO()
                rc = nnft.cli.main(["--server", server.address, "result",
                                    name, "--format", "csv"], out=out)
                self.assertEqual(rc, 0)
            rows = list(csv.DictReader(io.StringIO(out.getvalue())))
            self.assertEqual(len(rows), 21)
            with nnft.Client(server.address) as client:
                r = client.job(name).result(timeout=60)
            assert_bit_equal(self, [float(row["mean"]) for row in rows],
                             r.mean, "csv mean")
            self.assertEqual(rows[1]["tuple"], "0 1")
        finally:
            self.assertEqual(server.stop(), 0)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NULL_CONE_SPEC = {
    "architecture": {"nullCone": {"inputDim": 4, "law": "THETA_LAW_SPHERE"}},
    "points": [{"x": [0.1, 0.2, -0.3, 0.4]}, {"x": [1.0, -0.5, 0.2, 0.0]},
               {"x": [-0.7, 0.9, 0.3, -0.2]}, {"x": [0.4, 0.4, 1.1, 0.6]},
               {"x": [-1.2, -0.3, -0.8, 0.5]}],
    "observables": {"orders": [2, 4]},
    "sampling": {"seed": "3", "numNetworks": "20000", "chunkSize": 1000},
    "label": "py-test-null-cone",
}

CUTOFF_RP_SPEC = {
    "architecture": {"cosNet": {"inputDim": 1, "width": 50, "mass": 1.0,
                                "cutoff": 2.0}},
    "points": [{"x": [0.0]}],
    "observables": {"orders": [2]},
    "reflectionPositivity": {"points": [{"x": [0.5]}, {"x": [1.0]},
                                        {"x": [1.5]}, {"x": [2.0]}]},
    "sampling": {"seed": "5", "numNetworks": "20000", "chunkSize": 500,
                 "integrateOutputLayer": True},
    "label": "py-test-rp",
}


class AnalysesAgainstServerTest(unittest.TestCase):
    """Null-cone conformal results and reflection positivity, end to end."""

    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess()
        cls.client = nnft.Client(cls.server.address, timeout=30)
        cls.cone = cls.client.submit(NULL_CONE_SPEC)
        cls.rp = cls.client.submit(CUTOFF_RP_SPEC)
        cls.cone_result = cls.cone.result(timeout=120)
        cls.rp_result = cls.rp.result(timeout=120)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        code = cls.server.stop()
        assert code == 0, "nnft-server exited %s" % code

    def test_conformal_g_matches_exact_for_sphere_law_in_d4(self):
        a = self.cone_result.conformal_arrays()
        self.assertEqual(len(a["g"]), 5)
        # Exact g = (mu4/3)(1 + 1/u + v/u), mu4 = 3/(6 * 8) for n = 6.
        g = (1.0 / 48) * (1 + 1 / a["u"] + a["v"] / a["u"])
        np.testing.assert_allclose(a["g_exact"], g, rtol=1e-12)
        self.assertTrue(np.all(np.abs(a["g"] - g) < 4 * a["g_stderr"]))
        checks = self.cone_result.conformal.checks
        self.assertEqual(len(checks), 5)
        self.assertTrue(all(c.passed for c in checks))

    def test_cutoff_cos_net_violates_reflection_positivity(self):
        m = self.rp_result.reflection.two_point
        self.assertEqual(m.verdict, "violated")
        self.assertTrue(m.has_exact)
        self.assertLess(abs(m.min_eigenvalue - m.exact_eigenvalues[0]),
                        4 * m.min_stderr)

    def test_plots_are_pngs_of_the_requested_size(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "g.png")
            plot.plot_conformal(self.cone_result, out=path, figsize=(5, 3),
                                dpi=80)
            self.assertEqual(png_size(path), (400, 240))
            self.assertGreater(os.path.getsize(path), 2000)
            for job in (self.cone, self.rp):
                path = os.path.join(d, "cli.png")
                out = io.StringIO()
                rc = nnft.cli.main(["--server", self.server.address, "plot",
                                    job.name, "--out", path], out=out)
                self.assertEqual(rc, 0)
                self.assertEqual(png_size(path), (640, 480))
                self.assertGreater(os.path.getsize(path), 2000)


if __name__ == "__main__":
    unittest.main()
