"""Every plot of nnft.plot drawn from real results of a real nnft-server and
checked for content: the Figure's artists carry the result's numbers (not
only a PNG on disk), every value drawn is finite, every panel has axis
labels, the title is the experiment's label (its architecture without one,
never the job id), and no two tick labels of an axis overlap.

Run: PYTHONPATH=build/python NNFT_SERVER_BINARY=build/bin/nnft-server \\
       /usr/bin/python3 -m unittest discover -s client/python/tests -p
       'test_plots.py'
"""

import io
import math
import os
import tempfile
import unittest

import numpy as np
from matplotlib.collections import PolyCollection, QuadMesh
from matplotlib.container import ErrorbarContainer

import nnft
import nnft.cli
from nnft import experiments as ex
from nnft import plot

from server import ServerTestCase

LINE_LABEL = "erf net on a line"
LINE_POINTS = ex.line_points(6, -1.0, 1.5)
PLANE_POINTS = [[0.0, 0.0], [1.0, 0.2], [0.3, 1.1], [-0.8, 0.5],
                [0.6, -0.9]]


def line_spec():
    """Single-layer erf net, exact G2 and G4 at every width."""
    return ex.mlp(16, LINE_POINTS, "erf", sw=[1.5, 1.0], sb=[0.4, 0.2],
                  orders=[2, 4], seed=21, num_networks=20000,
                  chunk_size=1000, label=LINE_LABEL)


def plane_spec():
    """Points that span a plane; no label (the title is the architecture)."""
    return ex.mlp(32, PLANE_POINTS, "relu", sw=[1.2, 1.0], orders=[2],
                  seed=22, num_networks=10000, chunk_size=1000)


def sweep_spec():
    base = ex.mlp(1, [0.5, -1.0], "erf", sw=[2.0, 1.0],
                  tuples=[[0, 0, 1, 1], [0, 0, 0, 1, 1, 1]], seed=23,
                  num_networks=40000, chunk_size=2000,
                  integrate_output_layer=True, label="erf sweep")
    return ex.width_sweep(base, [2, 4, 8, 16, 32])


def training_spec():
    base = ex.mlp(32, [0.2, 0.7], "erf", sw=[1.5, 1.0], seed=24,
                  num_networks=256, chunk_size=32, label="erf training")
    return ex.training(base, [-1.0, 0.2, 1.1], [0.3, -0.5, 0.8],
                       times=[0, 0.5, 1.5, 5, 20, 100], eta=0.5,
                       loss_histogram=(32, 1e-5, 100))


def rp_spec():
    return {
        "architecture": {"cosNet": {"inputDim": 1, "width": 50, "mass": 1.0,
                                    "cutoff": 2.0}},
        "points": [{"x": [0.0]}],
        "observables": {"orders": [2]},
        "reflectionPositivity": {"points": [{"x": [0.5]}, {"x": [1.0]},
                                            {"x": [1.5]}, {"x": [2.0]}]},
        "sampling": {"seed": "25", "numNetworks": "10000", "chunkSize": 500,
                     "integrateOutputLayer": True},
        "label": "cut-off cos-net",
    }


def cone_spec():
    return ex.null_cone([[0, 0], [1, 0], [0, 1.5], [2, 1], [-1, 0.5]],
                        law="sphere", orders=[2, 4], seed=26,
                        num_networks=10000, label="null cone D = 2")


# -- what a figure must hold -------------------------------------------------

def data_axes(fig):
    """The panels (colour bars left out)."""
    return [ax for ax in fig.axes if not hasattr(ax, "_colorbar")]


def drawn_arrays(ax):
    """Every data array the panel draws: lines' x and y, errorbar segments,
    filled areas, meshes."""
    arrays = []
    for line in ax.get_lines():
        arrays += [np.asarray(line.get_xdata(), float),
                   np.asarray(line.get_ydata(), float)]
    for c in ax.collections:
        if isinstance(c, QuadMesh):
            arrays.append(np.ma.filled(c.get_array(), np.nan).ravel())
        else:
            for path in c.get_paths():
                arrays.append(path.vertices.ravel())
    for patch in ax.patches:
        arrays.append(patch.get_path().transformed(
            patch.get_patch_transform()).vertices.ravel())
    return [a for a in arrays if a.size]


def tick_labels_overlap(fig, ax):
    """Pairs of visible tick labels of one axis whose boxes intersect."""
    renderer = fig.canvas.get_renderer()
    bad = []
    for axis in (ax.xaxis, ax.yaxis):
        boxes = [(t.get_text(), t.get_window_extent(renderer))
                 for t in axis.get_ticklabels()
                 if t.get_visible() and t.get_text()]
        for i, (ta, a) in enumerate(boxes):
            for tb, b in boxes[i + 1:]:
                if a.overlaps(b):
                    bad.append((ta, tb))
    return bad


class PlotContent:
    """Assertions on a Figure shared by every plot test."""

    def assert_publishable(self, fig, title_has):
        fig.canvas.draw()
        titles = [ax.get_title() for ax in fig.axes]
        if fig._suptitle is not None:
            titles.append(fig._suptitle.get_text())
        joined = " | ".join(titles)
        self.assertIn(title_has, joined)
        self.assertNotIn("jobs/", joined)
        panels = data_axes(fig)
        self.assertTrue(panels)
        for ax in panels:
            self.assertTrue(ax.get_ylabel(), "panel %r has no y label" % ax)
            shared_x = ax.get_xlabel() or any(
                other.get_xlabel() for other in panels
                if other is not ax and other.get_shared_x_axes().joined(
                    ax, other))
            self.assertTrue(shared_x, "panel %r has no x label" % ax)
            arrays = drawn_arrays(ax)
            self.assertTrue(arrays, "panel %r draws nothing" % ax.get_ylabel())
            for a in arrays:
                finite = a[np.isfinite(a)]
                self.assertTrue(finite.size,
                                "panel %r draws an all-NaN array" %
                                ax.get_ylabel())
            self.assertEqual(tick_labels_overlap(fig, ax), [],
                             "tick labels collide on %r" % ax.get_ylabel())
        for ax in fig.axes:
            if hasattr(ax, "_colorbar"):
                self.assertTrue(ax.get_ylabel(), "colour bar without label")

    def errorbar_points(self, ax):
        """(x, y, yerr) of every errorbar container of the panel."""
        out = []
        for c in ax.containers:
            if isinstance(c, ErrorbarContainer):
                line, _, bars = c.lines
                x, y = line.get_xdata(), line.get_ydata()
                segs = bars[0].get_segments() if bars else []
                err = np.array([abs(s[1][1] - s[0][1]) / 2 for s in segs])
                out.append((np.asarray(x, float), np.asarray(y, float), err))
        return out


class CorrelatorPlotsTest(ServerTestCase, PlotContent):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.line_job = cls.client.submit(line_spec())
        cls.plane_job = cls.client.submit(plane_spec())
        cls.line = cls.line_job.result(timeout=120)
        cls.plane = cls.plane_job.result(timeout=120)

    def test_parity_plot_draws_every_estimate_against_its_exact_value(self):
        r = self.line
        fig = plot.plot_parity(r)
        self.assert_publishable(fig, LINE_LABEL)
        ax = fig.axes[0]
        points = self.errorbar_points(ax)
        self.assertEqual(len(points), 2)  # orders 2 and 4
        x = np.concatenate([p[0] for p in points])
        y = np.concatenate([p[1] for p in points])
        e = np.concatenate([p[2] for p in points])
        self.assertEqual(len(x), len(r))
        order = np.lexsort((y, x))
        ref = np.lexsort((r.mean, r.exact))
        np.testing.assert_allclose(x[order], r.exact[ref], rtol=1e-12)
        np.testing.assert_allclose(y[order], r.mean[ref], rtol=1e-12)
        np.testing.assert_allclose(e[order], r.stderr[ref], rtol=1e-9)
        texts = " ".join(t.get_text() for t in ax.texts)
        self.assertIn("chi^2", texts)
        self.assertIn("%.3g" % r.vs_exact.chi2_per_dof, texts)
        self.assertIn("exact, N = 16", ax.get_xlabel())
        # y = x is drawn.
        diag = [ln for ln in ax.get_lines() if ln.get_label() == "$y = x$"]
        self.assertEqual(len(diag), 1)
        np.testing.assert_array_equal(diag[0].get_xdata(),
                                      diag[0].get_ydata())

    def test_theory_choice_takes_any_case_and_names_the_choices(self):
        fig = plot.plot_parity(self.line, theory="GP")
        self.assertIn("infinite width", fig.axes[0].get_xlabel())
        with self.assertRaisesRegex(ValueError, "must be auto, exact or gp"):
            plot.plot_parity(self.line, theory="nngp")

    def test_z_histogram_is_a_density_beside_the_standard_normal(self):
        r = self.line
        fig = plot.plot_z_histogram(r)
        self.assert_publishable(fig, LINE_LABEL)
        ax = fig.axes[0]
        heights = np.array([p.get_height() for p in ax.patches])
        widths = np.array([p.get_width() for p in ax.patches])
        self.assertAlmostEqual(float(np.sum(heights * widths)), 1.0,
                               places=9)
        normal = [ln for ln in ax.get_lines()
                  if "mathcal{N}" in ln.get_label()]
        self.assertEqual(len(normal), 1)
        self.assertAlmostEqual(float(np.max(normal[0].get_ydata())),
                               1 / math.sqrt(2 * math.pi), places=4)
        self.assertIn("%d entries" % len(r), [t.get_text() for t in
                                             ax.get_legend().get_texts()])

    def test_comparison_of_points_off_a_line_titles_the_architecture(self):
        fig = plot.plot_result(self.plane)  # not on a line: parity + z
        self.assertEqual(len(data_axes(fig)), 2)
        self.assert_publishable(fig, "ReLU MLP, N = 32, d = 2")

    def test_correlator_refuses_points_off_a_line(self):
        with self.assertRaises(ValueError) as cm:
            plot.plot_correlator(self.plane)
        self.assertIn("do not lie on a line", str(cm.exception))
        self.assertIn("plot_parity", str(cm.exception))

    def test_correlator_has_a_fine_theory_curve_through_the_exact_values(self):
        r = self.line
        fig = plot.plot_correlator(r, client=self.client)
        self.assert_publishable(fig, LINE_LABEL)
        ax = fig.axes[0]
        [(x, y, e)] = self.errorbar_points(ax)
        # G2(x_0, x_j) for every j, against x itself (d = 1).
        np.testing.assert_array_equal(x, LINE_POINTS[:, 0])
        idx = [r.index((0, j)) for j in range(len(LINE_POINTS))]
        np.testing.assert_array_equal(y, r.mean[idx])
        curve = [ln for ln in ax.get_lines()
                 if ln.get_linestyle() == "-" and len(ln.get_xdata()) ==
                 plot.FINE_POINTS]
        self.assertEqual(len(curve), 1)
        cx, cy = curve[0].get_xdata(), curve[0].get_ydata()
        self.assertTrue(np.all(np.diff(cx) > 0))
        # The curve's ends are points of the spec: there it is the
        # result's own exact value.
        self.assertAlmostEqual(cy[0], r.exact[idx[0]], delta=1e-12)
        self.assertAlmostEqual(cy[-1], r.exact[idx[-1]], delta=1e-12)
        self.assertEqual(ax.get_xlabel(), "$x$")
        self.assertEqual(ax.get_ylabel(), "$G^{(2)}(x_{0}, x)$")

    def test_correlator_without_a_client_marks_theory_only_at_the_points(self):
        r = self.line
        fig = plot.plot_correlator(r, order=4, connected=True)
        self.assert_publishable(fig, LINE_LABEL)
        ax = fig.axes[0]
        theory = [ln for ln in ax.get_lines()
                  if "at the points" in ln.get_label()]
        self.assertEqual(len(theory), 1)
        self.assertEqual(theory[0].get_linestyle(), "None")
        idx = [r.index((0, j, j, j)) for j in range(len(LINE_POINTS))]
        np.testing.assert_array_equal(theory[0].get_ydata(),
                                      r.exact_connected[idx])

    def test_correlator_falls_back_to_markers_when_kernel_refuses(self):
        # More points than the server's limit (4096): ComputeKernel answers
        # INVALID_ARGUMENT, the plot warns and marks theory at the points.
        with self.assertWarnsRegex(UserWarning, "no fine theory curve"):
            fig = plot.plot_correlator(self.line, client=self.client,
                                       fine_points=5000)
        labels = [ln.get_label() for ln in fig.axes[0].get_lines()]
        self.assertTrue(any("at the points" in t for t in labels), labels)

    def test_kernel_heat_map_shows_compute_kernels_matrix(self):
        k = self.client.kernel(line_spec())
        fig = plot.plot_kernel(k, spec=line_spec())
        self.assert_publishable(fig, LINE_LABEL)
        mesh = [c for c in fig.axes[0].collections
                if isinstance(c, QuadMesh)]
        self.assertEqual(len(mesh), 1)
        np.testing.assert_array_equal(
            np.asarray(mesh[0].get_array()).reshape(k.kernel.shape),
            k.kernel)
        # 1-D increasing points: the axes are coordinates.
        self.assertEqual(fig.axes[0].get_xlabel(), "$x_j$")

    def test_kernel_comparison_has_theory_estimate_and_z_maps(self):
        r = self.plane
        fig = plot.plot_kernel_comparison(r)
        self.assertEqual(len(data_axes(fig)), 3)
        self.assert_publishable(fig, "ReLU MLP, N = 32, d = 2")
        meshes = [[c for c in ax.collections if isinstance(c, QuadMesh)][0]
                  for ax in data_axes(fig)]
        p = len(PLANE_POINTS)
        k, g, z = (np.ma.filled(m.get_array(), np.nan).reshape(p, p)
                   for m in meshes)
        np.testing.assert_array_equal(k, r.kernel)
        i = r.index((1, 3))
        self.assertEqual(g[1, 3], r.mean[i])
        self.assertEqual(g[3, 1], r.mean[i])
        self.assertEqual(z[1, 3], r.z_exact[i])

    def test_cli_draws_parity_and_kernel_plots(self):
        with tempfile.TemporaryDirectory() as d:
            for kind in ("parity", "kernel", "auto"):
                path = os.path.join(d, kind + ".png")
                rc = nnft.cli.main(["--server", self.server.address, "plot",
                                    self.plane_job.name, "--kind", kind,
                                    "--out", path], out=io.StringIO())
                self.assertEqual(rc, 0)
                self.assertGreater(os.path.getsize(path), 5000)


class SweepAndTrainingPlotsTest(ServerTestCase, PlotContent):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sweep = cls.client.submit(sweep_spec())
        training = cls.client.submit(training_spec())
        cls.sweep = sweep.result(timeout=120)
        cls.training = training.result(timeout=120)

    def test_sweep_has_fits_with_chi2_and_a_residual_panel(self):
        fig, fits = plot.plot_sweep(self.sweep)
        self.assert_publishable(fig, "erf sweep")
        main, res = data_axes(fig)
        self.assertEqual(main.get_xscale(), "log")
        self.assertEqual(main.get_yscale(), "log")
        self.assertEqual(sorted(f.order for f in fits), [4, 6])
        legend = [t.get_text() for t in main.get_legend().get_texts()]
        for f in fits:
            self.assertTrue(any("%.3f" % f.exponent in t and "chi^2" in t
                                for t in legend), legend)
        sw = self.sweep.sweep
        widths = sw.widths.astype(float)
        self.assertEqual([t.get_text() for t in res.get_xticklabels()],
                         ["%g" % w for w in widths])
        # Residuals in standard errors against the exact values.
        for c, f in enumerate(fits):
            i = sw.index(f.tuple)
            expected = (sw.connected[:, i] - sw.exact_connected[:, i]) / \
                sw.connected_stderr[:, i]
            drawn = [ln for ln in res.get_lines()
                     if ln.get_color() == "C%d" % c]
            self.assertEqual(len(drawn), 1)
            np.testing.assert_allclose(drawn[0].get_ydata(), expected,
                                       rtol=1e-12)
        self.assertIn("exact", res.get_ylabel())

    def test_width_sweep_of_separate_results_fits_with_chi2(self):
        results = [self.client.submit(s).result(timeout=120) for s in
                   ex.width_copies(ex.mlp(2, [0.5, -1.0], "erf",
                                          sw=[2.0, 1.0],
                                          tuples=[[0, 0, 1, 1]], seed=27,
                                          num_networks=20000,
                                          chunk_size=2000,
                                          integrate_output_layer=True),
                                   [2, 4, 8])]
        fig, fit = plot.plot_width_sweep(results)
        self.assert_publishable(fig, "erf MLP, N = 2 to 8, d = 1")
        self.assertEqual(fit.dof, 1)
        self.assertTrue(np.isfinite(fit.chi2_per_dof))
        self.assertEqual(len(data_axes(fig)), 2)

    def test_training_flow_draws_theory_as_markers_at_recorded_times(self):
        r = self.training
        flow = r.training
        fig = plot.plot_training_flow(r)
        self.assert_publishable(fig, "erf training")
        ax_mu, ax_sig, ax_loss = data_axes(fig)
        self.assertIn(r"\mu_t", ax_mu.get_ylabel())
        self.assertIn(r"\Sigma_t", ax_sig.get_ylabel())
        self.assertIn(r"\mathcal{L}_t", ax_loss.get_ylabel())
        self.assertEqual(ax_loss.get_xlabel(), "training time $t$")
        theory = [ln for ln in ax_mu.get_lines()
                  if ln.get_marker() == "D" and len(ln.get_xdata())]
        self.assertEqual(len(theory), 2)  # one per point
        for p, ln in enumerate(theory):
            self.assertEqual(ln.get_linestyle(), "None")
            np.testing.assert_array_equal(ln.get_xdata(), flow.t)
            np.testing.assert_array_equal(ln.get_ydata(), flow.mu_theory[:, p])
        # No line joins anything on the mu and Sigma panels.
        for ax in (ax_mu, ax_sig):
            for ln in ax.get_lines():
                self.assertIn(ln.get_linestyle(), ("None", " ", ""), ln)
        # The loss quantile bands: a 5-95 % band enclosing the median.
        bands = [c for c in ax_loss.collections
                 if isinstance(c, PolyCollection)]
        self.assertEqual(len(bands), 2)
        # t = 0 is on the axis and the decade ticks are plain numbers.
        labels = [t.get_text() for t in ax_loss.get_xticklabels()
                  if t.get_text()]
        self.assertEqual(labels[0], "0")
        self.assertIn("10", labels)

    def test_plot_result_dispatches_sweeps_and_training(self):
        fig = plot.plot_result(self.sweep)
        self.assertEqual(len(data_axes(fig)), 2)
        fig = plot.plot_result(self.training)
        self.assertEqual(len(data_axes(fig)), 3)


class AnalysisPlotsTest(ServerTestCase, PlotContent):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rp = cls.client.submit(rp_spec())
        cone = cls.client.submit(cone_spec())
        cls.rp = rp.result(timeout=120)
        cls.cone = cone.result(timeout=120)

    def test_rp_spectrum_has_every_eigenvalue_and_readable_ticks(self):
        fig = plot.plot_rp_spectrum(self.rp)
        self.assert_publishable(fig, "cut-off cos-net")
        [(x, y, e)] = self.errorbar_points(fig.axes[0])
        m = self.rp.reflection.two_point
        np.testing.assert_array_equal(y, list(m.eigenvalues))
        np.testing.assert_allclose(e, list(m.eigenvalue_stderr), rtol=1e-9)

    def test_conformal_plot_draws_g_against_its_exact_value(self):
        fig = plot.plot_conformal(self.cone)
        self.assert_publishable(fig, "null cone D = 2")
        a = self.cone.conformal_arrays()
        [(x, y, _)] = self.errorbar_points(fig.axes[0])
        np.testing.assert_array_equal(x, a["g_exact"])
        np.testing.assert_array_equal(y, a["g"])


if __name__ == "__main__":
    unittest.main()
