"""The Python API's conveniences against a real nnft-server: compact reprs
(a sweep's hundreds of fits in one line), pandas export, the notebook HTML
view, done callbacks, concurrent.futures and asyncio interop, and progress
lines with a rate and a time left."""

import asyncio
import concurrent.futures
import contextlib
import io
import json
import os
import tempfile
import threading
import unittest

import numpy as np

import nnft
import nnft.cli
from nnft import experiments as ex
from nnft import progress

from server import ServerProcess

try:
    import pandas  # noqa: F401  (optional: Debian's python3-pandas)
    HAVE_PANDAS = True
except ImportError:
    HAVE_PANDAS = False


def erf_spec(seed=1, networks=4000):
    return ex.mlp(16, [0.3, 1.0, 1.7], "erf", orders=[2, 4], seed=seed,
                  num_networks=networks, chunk_size=500, label="erf api")


class ResultViewsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess()
        cls.client = nnft.Client(cls.server.address, timeout=30)
        cls.result = cls.client.submit(erf_spec()).result(timeout=60)
        base = ex.mlp(1, [0.5, -1.0, 0.2, 1.3], "erf", sw=[2.0, 1.0],
                      orders=[2, 4, 6], seed=2, num_networks=20000,
                      integrate_output_layer=True)
        cls.sweep = cls.client.submit(ex.width_sweep(base, [2, 4, 8])) \
            .result(timeout=120)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        code = cls.server.stop()
        assert code == 0, "nnft-server exited %s" % code

    def test_result_repr_is_one_short_line_with_chi2(self):
        text = repr(self.result)
        self.assertNotIn("\n", text)
        self.assertLess(len(text), 200, text)
        self.assertIn("4000 networks", text)
        self.assertIn("chi2/dof", text)

    def test_result_repr_names_the_label_cut_short(self):
        self.assertIn('"erf api"', repr(self.result))
        self.assertIn("&quot;erf api&quot;", self.result._repr_html_())
        long = ex.mlp(16, [0.3], "erf", orders=[2], seed=4,
                      num_networks=1000, chunk_size=500,
                      label="a very long label " * 10)
        text = repr(self.client.submit(long).result(timeout=60))
        self.assertIn('"a very long label a very long label a...",', text)
        self.assertLess(len(text), 200, text)

    def test_job_state_filter_takes_names_in_any_case(self):
        names = {j.name for j in self.client.jobs(states=["succeeded"])}
        self.assertIn(self.result.name, names)
        self.assertEqual(
            names, {j.name for j in self.client.jobs(states=["SUCCEEDED"])})
        self.assertFalse(list(self.client.jobs(states=["Cancelled"])))
        with self.assertRaises(nnft.InvalidSpec) as cm:
            list(self.client.jobs(states=["finished"]))
        self.assertIn("states[0]", str(cm.exception))
        self.assertIn("queued, running, succeeded, failed, cancelled",
                      str(cm.exception))

    def test_many_fits_print_as_a_summary(self):
        fits = self.sweep.sweep.fits
        self.assertGreater(len(fits), 100)  # every 4- and 6-point tuple
        text = repr(fits)
        self.assertLess(len(text), 600, text)
        self.assertIn("%d fits" % len(fits), text)
        self.assertIn("G4_c", text)
        self.assertIn("more", text)
        self.assertLess(len(repr(self.sweep)), 400)
        self.assertLess(len(repr(self.sweep.sweep)), 400)

    @unittest.skipUnless(HAVE_PANDAS, "pandas not installed")
    def test_to_pandas_has_one_row_per_tuple_with_the_same_numbers(self):
        df = self.result.to_pandas()
        self.assertEqual(len(df), len(self.result))
        np.testing.assert_array_equal(df["mean"].to_numpy(),
                                      self.result.mean)
        np.testing.assert_array_equal(df["exact"].to_numpy(),
                                      self.result.exact)
        self.assertEqual(df["tuple"].iloc[0], self.result.tuples[0])
        self.assertEqual(set(df["order"]), {2, 4})

    @unittest.skipIf(HAVE_PANDAS, "pandas installed")
    def test_to_pandas_without_pandas_names_the_package(self):
        with self.assertRaisesRegex(ImportError, "python3-pandas"):
            self.result.to_pandas()

    @unittest.skipUnless(HAVE_PANDAS, "pandas not installed")
    def test_sweep_and_fits_to_pandas(self):
        sw = self.sweep.sweep
        df = self.sweep.to_pandas()
        self.assertEqual(len(df), len(sw.widths) * len(sw.tuples))
        self.assertEqual(sorted(set(df["width"])), [2, 4, 8])
        fits = sw.fits.to_pandas()
        self.assertEqual(len(fits), len(sw.fits))
        np.testing.assert_array_equal(fits["exponent"].to_numpy(),
                                      [f.exponent for f in sw.fits])

    def test_html_view_is_a_bounded_table(self):
        page = self.result._repr_html_()
        self.assertIn("<table>", page)
        self.assertEqual(page.count("<tr>"), 13)  # header + 12 rows
        self.assertIn("more", page)

    def test_done_callback_future_and_await(self):
        job = self.client.submit(erf_spec(seed=3))
        called = threading.Event()
        seen = []
        job.add_done_callback(lambda j: (seen.append(j.state), called.set()))
        self.assertTrue(called.wait(60))
        self.assertEqual(seen, ["SUCCEEDED"])
        # Already ended: called at once, in this thread.
        here = []
        job.add_done_callback(lambda j: here.append(threading.get_ident()))
        self.assertEqual(here, [threading.get_ident()])

        futs = [self.client.submit(erf_spec(seed=s)).future()
                for s in (4, 5)]
        done, _ = concurrent.futures.wait(futs, timeout=60)
        self.assertEqual(len(done), 2)
        for f in futs:
            self.assertGreater(abs(f.result().mean[0]), 0)

        async def both():
            a = self.client.submit(erf_spec(seed=6))
            b = self.client.submit(erf_spec(seed=7))
            return await asyncio.gather(a, b.result_async(timeout=60))
        ra, rb = asyncio.run(both())
        self.assertEqual(ra.networks, 4000)
        self.assertNotEqual(ra.mean[0], rb.mean[0])

    def test_progress_lines_carry_rate_and_eta(self):
        out = io.StringIO()
        job = self.client.submit(erf_spec(seed=8, networks=20000))
        job.progress_bar(file=out)
        lines = out.getvalue().splitlines()
        self.assertTrue(lines)
        self.assertIn("networks/s", lines[-1])
        self.assertNotIn("nan", out.getvalue())


class CommandLineWatchTest(unittest.TestCase):
    def test_submit_watch_ends_with_the_result_table(self):
        server = ServerProcess()
        try:
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "spec.json")
                with open(path, "w") as f:
                    json.dump(nnft.to_dict(erf_spec(seed=9)), f)
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stderr(err):
                    rc = nnft.cli.main(["--server", server.address,
                                        "submit", path, "--watch"], out=out)
            self.assertEqual(rc, 0, err.getvalue())
            lines = out.getvalue().splitlines()
            self.assertTrue(lines[0].startswith("jobs/"), lines[0])
            rows = [ln.split() for ln in lines if ln.startswith("(")]
            self.assertEqual(len(rows), 21)  # 6 two-point, 15 four-point
            self.assertTrue(all(float(r[1]) != 0 for r in rows))
            self.assertIn("networks/s", err.getvalue())
        finally:
            self.assertEqual(server.stop(), 0)


class RateTest(unittest.TestCase):
    def test_rate_and_eta_from_a_fake_clock(self):
        t = [100.0]
        rate = progress.Rate(clock=lambda: t[0])
        rate.update(1000, 11000)      # first update: origin
        self.assertTrue(np.isnan(rate.per_second))
        t[0] = 102.0
        rate.update(5000, 11000)      # 4000 networks in 2 s
        self.assertEqual(rate.per_second, 2000.0)
        self.assertEqual(rate.eta_s, 3.0)
        self.assertEqual(progress.format_duration(rate.eta_s), "3s")
        self.assertEqual(progress.format_duration(3725), "1:02:05")
        self.assertEqual(progress.format_duration(float("nan")), "?")

    def test_first_error_unknown_is_a_question_mark(self):
        snap = nnft.Snapshot(job=None, state="RUNNING", chunks_done=1,
                             chunks_total=4, networks_done=500,
                             networks_total=2000, max_stderr=float("nan"),
                             tuples=[(0, 0)], mean=np.array([0.25]),
                             stderr=np.array([float("nan")]))
        rate = progress.Rate(clock=lambda: 0.0)
        line = progress.describe(snap, rate)
        self.assertIn("G00 = 0.25 +- ?", line)
        self.assertIn("? networks/s ETA ?", line)


if __name__ == "__main__":
    unittest.main()
