"""Training jobs (learning dynamics) through the Python client against a
real nnft-server: the flow arrives as a TrainingFlow, and the plot command
dispatches on the result kind and writes a PNG of the expected size.

Run: PYTHONPATH=build/python NNFT_SERVER_BINARY=build/bin/nnft-server \\
       /usr/bin/python3 -m unittest discover -s client/python/tests
"""

import io
import os
import struct
import tempfile
import unittest

import numpy as np

import nnft
import nnft.cli
from nnft import plot

from server import ServerProcess

TIMES = [0.0, 1.0, 4.0, 40.0]


def training_spec():
    """A small erf net trained by gradient descent on 3 points in d = 1."""
    return {
        "label": "py-training",
        "architecture": {"mlp": {"input_dim": 1, "widths": [64],
                                 "activation": "ACTIVATION_ERF",
                                 "sw": [1.5, 1.0], "sb": [0.3, 0.1]}},
        "points": [{"x": [0.2]}, {"x": [0.7]}],
        "training": {"data": {"x": [{"x": [-1.0]}, {"x": [0.2]},
                                    {"x": [1.1]}],
                              "y": [0.3, -0.5, 0.8]},
                     "eta": 0.5, "times": TIMES, "empiricalNtk": True,
                     "lossHistogram": {"bins": 24, "min": 1e-4,
                                       "max": 100}},
        "sampling": {"seed": "3", "num_networks": "512", "chunk_size": 32},
    }


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise AssertionError("%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


class TrainingFlowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess()
        cls.client = nnft.Client(cls.server.address, timeout=30)
        cls.job = cls.client.submit(training_spec())
        cls.snapshots = list(cls.job.watch(timeout=120))
        cls.result = cls.job.result(timeout=120)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        code = cls.server.stop()
        assert code == 0, "nnft-server exited %s" % code

    def test_result_is_a_training_flow_with_theory(self):
        r = self.result
        self.assertEqual(r.kind, "training")
        flow = r.training
        np.testing.assert_array_equal(flow.t, TIMES)
        self.assertEqual(flow.mu.shape, (4, 2))
        self.assertEqual(flow.sigma.shape, (4, 2, 2))
        self.assertTrue(np.all(np.isfinite(flow.mu_theory)))
        self.assertTrue(np.all(flow.mu_stderr > 0))
        # Point 0 is a training point (y = -0.5): the mean moves onto it.
        self.assertLess(abs(flow.mu[-1, 0] + 0.5), 0.05)
        self.assertLess(flow.loss_mean[-1], flow.loss_mean[0])
        self.assertEqual(flow.empirical_ntk["mean"].shape, (2, 2))

    def test_loss_histogram_counts_every_network_and_brackets_the_mean(self):
        flow = self.result.training
        edges = flow.loss_histogram_edges
        self.assertEqual(edges.shape, (25,))
        self.assertEqual(flow.loss_histogram_counts.shape, (4, 24))
        total = (flow.loss_histogram_counts.sum(axis=1)
                 + flow.loss_histogram_underflow
                 + flow.loss_histogram_overflow)
        np.testing.assert_array_equal(total, 512)
        np.testing.assert_array_equal(flow.loss_histogram_overflow, 0)
        # Each loss lies in its bin: the counts bracket the summed loss.
        low = flow.loss_histogram_counts @ edges[:-1]
        high = (flow.loss_histogram_counts @ edges[1:]
                + flow.loss_histogram_underflow * edges[0])
        total_loss = flow.loss_mean * 512
        self.assertTrue(np.all(low <= total_loss * (1 + 1e-12)))
        self.assertTrue(np.all(total_loss <= high * (1 + 1e-12)))
        self.assertEqual(flow.loss_quantiles.shape, (4, 5))
        # The watched flow ends on the final rows, histogram included.
        last = [s.training for s in self.snapshots if s.training][-1]
        np.testing.assert_array_equal(last.loss_mean, flow.loss_mean)
        np.testing.assert_array_equal(last.loss_histogram_counts,
                                      flow.loss_histogram_counts)

    def test_kernel_prediction_is_the_jobs_theory_at_cross_points_too(self):
        cross = [[1.5], [-0.4]]
        k = self.client.kernel(training_spec(), cross_points=cross)
        flow = self.result.training
        pred = k.prediction
        self.assertIsInstance(pred, nnft.Prediction)
        np.testing.assert_array_equal(pred.times, TIMES)
        self.assertEqual(pred.mean.shape, (4, 4))
        self.assertEqual(pred.covariance.shape, (4, 4, 4))
        # The spec's points come first: there the prediction is the job's
        # theory column, computed with the cross points in the same
        # recursion.
        np.testing.assert_allclose(pred.mean[:, :2], flow.mu_theory,
                                   rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(pred.covariance[:, :2, :2],
                                   flow.sigma_theory, rtol=1e-9, atol=1e-12)
        # At t = 0 the outputs have the prior's law at every width:
        # E[L_0] = (1/2)(|Y|^2 + tr K(X, X)) exactly; the ensemble's loss
        # agrees within 3 standard errors.
        z = (flow.loss_mean[0] - pred.loss[0]) / flow.loss_stderr[0]
        self.assertLess(abs(z), 3.0, "loss %g +- %g, predicted %g" % (
            flow.loss_mean[0], flow.loss_stderr[0], pred.loss[0]))
        self.assertLess(pred.loss[-1], pred.loss[0])
        np.testing.assert_allclose(k.ntk, flow.empirical_ntk["theory"],
                                   rtol=1e-9)
        self.assertEqual(k.cross_kernel.shape, (2, 2))
        self.assertEqual(k.cross_ntk.shape, (2, 2))
        # The cross kernel is the off-diagonal block of the union's kernel.
        union = training_spec()
        union["points"] = union["points"] + [{"x": x} for x in cross]
        whole = self.client.kernel(union)
        np.testing.assert_allclose(k.cross_kernel, whole.kernel[:2, 2:],
                                   rtol=1e-12)
        np.testing.assert_allclose(k.cross_ntk, whole.ntk[:2, 2:],
                                   rtol=1e-12)

    def test_cross_point_of_wrong_dimension_names_the_field(self):
        with self.assertRaises(nnft.InvalidArgument) as ctx:
            self.client.kernel(training_spec(),
                               cross_points=[[0.1], [0.2, 0.3]])
        self.assertIn("cross_points[1].x", str(ctx.exception))

    def test_gauss_net_ntk_is_the_closed_form(self):
        # sw0 = sw1 = 1, sb0 = sb1 = 0, d = 1:
        # Theta(x, y) = exp(-(x - y)^2 / 2) (1 + x y).
        spec = {"architecture": {"gaussNet": {"inputDim": 1, "width": 10}},
                "points": [{"x": [0.0]}, {"x": [1.0]}]}
        k = self.client.kernel(spec, cross_points=[[2.0]])
        self.assertEqual(k.ntk_absent_reason, "")

        def theta(x, y):
            return np.exp(-0.5 * (x - y) ** 2) * (1 + x * y)
        x = [0.0, 1.0]
        np.testing.assert_allclose(
            k.ntk, [[theta(a, b) for b in x] for a in x], rtol=0, atol=1e-14)
        np.testing.assert_allclose(
            k.cross_ntk, [[theta(a, 2.0)] for a in x], rtol=0, atol=1e-14)

    def test_architecture_without_ntk_says_why(self):
        # The cos MLP with a uniform phase: G2 = (1/2) exp(-(x - y)^2 / 2).
        spec = {"architecture": {"mlp": {
                    "inputDim": 1, "widths": [10],
                    "activation": "ACTIVATION_COS", "sw": [1.0, 1.0],
                    "sb": [0.0, 0.0], "firstBias": "BIAS_LAW_UNIFORM_PHASE"}},
                "points": [{"x": [0.0]}, {"x": [1.0]}]}
        k = self.client.kernel(spec, cross_points=[[2.0]])
        self.assertIsNone(k.ntk)
        self.assertIsNone(k.cross_ntk)
        self.assertIn("architecture.mlp.first_bias", k.ntk_absent_reason)
        np.testing.assert_allclose(
            k.cross_kernel, [[0.5 * np.exp(-2.0)], [0.5 * np.exp(-0.5)]],
            rtol=0, atol=1e-14)
        self.assertIsNone(k.prediction)

    def test_plot_training_flow_is_png_of_requested_size(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "flow.png")
            plot.plot_training_flow(self.result, out=path, figsize=(6, 3),
                                    dpi=80)
            self.assertEqual(png_size(path), (480, 240))
            self.assertGreater(os.path.getsize(path), 2000)

    def test_cli_plot_dispatches_on_result_kind(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cli_flow.png")
            out = io.StringIO()
            rc = nnft.cli.main(["--server", self.server.address, "plot",
                                self.job.name, "--out", path], out=out)
            self.assertEqual(rc, 0)
            self.assertEqual(png_size(path), (640, 480))
            out = io.StringIO()
            rc = nnft.cli.main(["--server", self.server.address, "result",
                                self.job.name], out=out)
            self.assertEqual(rc, 0)
            self.assertIn("training flow", out.getvalue())


if __name__ == "__main__":
    unittest.main()
