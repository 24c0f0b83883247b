"""nnft.reproduce: the published studies of deploy/reproduce rerun against a
real nnft-server with reduced networks (fixed seeds), the table's nnft
values within stated standard errors of the published ones, the figure a
PNG with content, and `python3 -m nnft reproduce --list`.
"""

import csv
import io
import os
import tempfile
import unittest

import numpy as np

import nnft
from nnft import cli, reproduction

from server import ServerTestCase

FIVE = ("mn-falloff", "cosnet-phi4", "null-cone-conformal", "so-n-symmetry",
        "relu-running")


class ReproduceListTest(unittest.TestCase):
    def test_list_names_the_five_studies_with_their_papers(self):
        studies = {s.id: s for s in nnft.reproduce_list()}
        for name in FIVE:
            self.assertIn(name, studies)
        self.assertEqual(studies["relu-running"].arxiv, "2008.08601")
        self.assertEqual(studies["null-cone-conformal"].arxiv, "2409.12222")

    def test_every_quantity_names_a_run_and_a_source(self):
        for s in nnft.reproduce_list():
            study = reproduction.load_study(s.id)
            runs = {r["name"] for r in study["runs"]}
            for q in study["quantities"]:
                self.assertIn(q["run"], runs, (s.id, q["label"]))
                self.assertTrue(q["published"]["source"], (s.id, q["label"]))

    def test_unknown_study_is_refused_naming_the_known_ones(self):
        with self.assertRaisesRegex(nnft.InvalidSpec, "relu-running"):
            reproduction.load_study("no-such-study")


class ReproduceRunTest(ServerTestCase):
    def setUp(self):
        self.out_dir = tempfile.mkdtemp(prefix="nnft-repro-")

    def _png_has_content(self, path):
        from matplotlib import image
        self.assertGreater(os.path.getsize(path), 5000)
        pixels = image.imread(path)
        # Not a blank canvas: many distinct colours (axes, markers, text).
        self.assertGreater(len(np.unique(pixels.reshape(-1,
                                                        pixels.shape[-1]),
                                         axis=0)), 20)

    def test_null_cone_study_agrees_within_four_standard_errors(self):
        rep = nnft.reproduce("null-cone-conformal", self.client,
                             out_dir=self.out_dir, num_networks=20000,
                             out=io.StringIO())
        rows = {r.label: r for r in rep.rows}
        mu4 = rows["mu4 = E[Theta_1^4], Theta uniform on S^5"]
        # Published: mu4 = 3/(n(n+2)) = 1/16 for Theta uniform on S^5.
        self.assertEqual(mu4.published, 0.0625)
        self.assertGreater(mu4.err, 0)
        self.assertLess(abs(mu4.value - 0.0625), 4 * mu4.err)
        for r in rep.rows:
            self.assertLess(abs(r.z), 4, r)
        self.assertTrue(rep.ok, rep.table())
        self._png_has_content(rep.figure)
        with open(rep.csv) as f:
            table = list(csv.DictReader(f))
        self.assertEqual(len(table), len(rep.rows))
        self.assertAlmostEqual(float(table[0]["nnft"]), mu4.value)

    def test_relu_running_slope_is_minus_five(self):
        rep = nnft.reproduce("relu-running", self.client,
                             out_dir=self.out_dir, num_networks=10000,
                             out=io.StringIO())
        (row,) = rep.rows
        # lambda ~ Lambda^-(d+4) exactly for the sb = 0 ReLU net in d = 1.
        self.assertEqual(row.published, -5.0)
        self.assertLess(abs(row.value + 5.0), 1e-6)
        self.assertTrue(row.agrees)
        self._png_has_content(rep.figure)

    def test_output_symmetry_holds_at_zero_mean_and_breaks_when_shifted(self):
        rep = nnft.reproduce("so-n-symmetry", self.client, out_dir=None,
                             num_networks=10000, out=io.StringIO())
        zero, shifted = rep.rows
        self.assertEqual(zero.published, "invariant")
        self.assertIn("nnft: invariant", zero.note)
        self.assertEqual(shifted.published, "broken")
        self.assertIn("nnft: broken", shifted.note)
        self.assertTrue(rep.ok, rep.table())

    def test_cli_lists_and_prints_the_table(self):
        out = io.StringIO()
        code = cli.main(["--server", self.server.address, "reproduce",
                         "--list"], out=out)
        self.assertEqual(code, 0)
        for name in FIVE:
            self.assertIn(name, out.getvalue())
        out = io.StringIO()
        code = cli.main(["--server", self.server.address, "reproduce",
                         "relu-running", "--num_networks", "10000",
                         "--out_dir", self.out_dir], out=out)
        self.assertEqual(code, 0, out.getvalue())
        self.assertIn("slope d log|lambda| / d log Lambda", out.getvalue())
        self.assertIn("1 of 1 quantities agree", out.getvalue())


if __name__ == "__main__":
    unittest.main()
