"""Every builder of nnft.experiments, built -> submitted to a real
nnft-server -> a result with a nonzero finite estimate, compared with exact
theory within Z_MAX standard errors where the server has it. Networks are
small (each job well under a second); seeds are fixed.

Also: enum names are accepted case-insensitively with or without their
prefix, in builders and in dicts, and an unknown name lists the valid ones.
"""

import unittest

import numpy as np

import nnft
from nnft import experiments as ex

from server import ServerTestCase

Z_MAX = 5.0


class BuilderRoundTripTest(ServerTestCase):
    def run_spec(self, spec):
        return self.client.submit(spec).result(timeout=120)

    def assert_physical(self, r, order=2):
        """A nonzero finite estimate of order ``order``; where exact theory
        is known, every entry of that order within Z_MAX errors of it."""
        idx = r.select(order)
        self.assertGreater(len(idx), 0, "no entry of order %d" % order)
        mean = r.mean[idx]
        self.assertTrue(np.all(np.isfinite(mean)), mean)
        self.assertGreater(np.max(np.abs(mean)), 0.0, "all zero: %s" % mean)
        z = r.z_exact[idx]
        known = np.isfinite(z)
        if known.any():
            self.assertLess(np.max(np.abs(z[known])), Z_MAX,
                            "z against exact: %s" % z[known])
        return known.any()

    def test_mlp_default_bias_makes_the_origin_physical(self):
        spec = ex.mlp(16, [0.0, 1.0], "ERF", orders=[2], seed=1,
                      num_networks=4000)
        self.assertEqual(list(spec.architecture.mlp.sb), [0.5, 0.0])
        r = self.run_spec(spec)
        self.assertTrue(self.assert_physical(r))
        self.assertGreater(abs(r.mean[r.index((0, 0))]), 0.0)

    def test_conv1d(self):
        pts = [[0.3, -0.5, 1.0, 0.2], [1.0, 0.4, -0.2, 0.6]]
        spec = ex.conv1d(8, pts, "tanh", kernel_size=3, padding="zero",
                         output_position=1, sw=1.3, sb=0.2, orders=[2],
                         seed=2, num_networks=4000)
        self.assertEqual(spec.architecture.conv1d.sequence_length, 4)
        self.assertTrue(self.assert_physical(self.run_spec(spec)))

    def test_attention(self):
        pts = [[0.3, -0.5, 1.0, 0.2], [1.0, 0.4, -0.2, 0.6]]
        spec = ex.attention(4, pts, sequence_length=2, head_dim=2,
                            output_position=1, sb=0.1, orders=[2], seed=3,
                            num_networks=4000)
        self.assertEqual(spec.architecture.attention.embed_dim, 2)
        self.assert_physical(self.run_spec(spec))

    def test_kan(self):
        spec = ex.kan(8, [[0.3, -0.5], [1.0, 0.2]], grid_size=4,
                      base_activation="Gelu", orders=[2], seed=4,
                      num_networks=4000)
        self.assert_physical(self.run_spec(spec))

    def test_null_cone(self):
        pts = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.5], [2.0, 1.0]]
        spec = ex.null_cone(pts, law="THETA_LAW_GAUSSIAN", scale=0.8,
                            orders=[2, 4], seed=5, num_networks=20000)
        c = self.run_spec(spec).conformal
        self.assertIsNotNone(c)
        # The field's correlators are in the conformal part: G2 = mu2 X.X.
        g2 = np.array([t.g2.value for t in c.two_point])
        self.assertTrue(np.all(np.isfinite(g2)) and np.all(g2 != 0), g2)
        for t in c.two_point:
            self.assertLess(abs(t.g2.value - t.g2.exact),
                            Z_MAX * t.g2.stderr, t)
        self.assertAlmostEqual(c.mu4.exact, 3 * 0.8**4, places=12)
        self.assertLess(abs(c.mu4.value - c.mu4.exact), Z_MAX * c.mu4.stderr)

    def test_ou_net_with_reflection_positivity(self):
        spec = ex.ou_net(16, [0.2, 0.6, 1.4], "erf", tau=1.0, sigma=1.0,
                         sw=[1.5, 1.0], orders=[2], seed=6,
                         num_networks=4000, integrate_output_layer=True)
        spec = ex.reflection_positivity(spec, [0.2, 0.6, 1.4])
        self.assertEqual(spec.architecture.ou_net.mlp.input_dim, 1)
        r = self.run_spec(spec)
        self.assert_physical(r)
        self.assertIsNotNone(r.reflection)
        self.assertEqual(r.reflection.two_point.size, 3)
        self.assertNotEqual(r.reflection.two_point.verdict, "violated")

    def test_reflection_positivity_of_a_cutoff_cos_net(self):
        spec = ex.reflection_positivity(
            ex.cos_net(50, [0.0], mass=1.0, cutoff=2.0, orders=[2], seed=7,
                       num_networks=4000, integrate_output_layer=True),
            [0.5, 1.0, 1.5, 2.0], z_threshold=3)
        r = self.run_spec(spec)
        self.assert_physical(r)
        m = r.reflection.two_point
        self.assertTrue(m.has_exact)
        self.assertLess(abs(m.min_eigenvalue - m.exact_eigenvalues[0]),
                        Z_MAX * m.min_stderr)

    def test_training(self):
        base = ex.mlp(32, [0.2, 0.7], "erf", sw=[1.5, 1.0], sb=[0.3, 0.1],
                      seed=8, num_networks=256, chunk_size=32)
        spec = ex.training(base, [-1.0, 0.2, 1.1], [0.3, -0.5, 0.8],
                           times=[0.0, 1.0, 4.0], eta=0.5,
                           method="gradient_descent", parameterisation="NTK")
        self.assertFalse(base.HasField("training"))
        r = self.run_spec(spec)
        self.assertEqual(r.kind, "training")
        mu = r.training.mu
        self.assertTrue(np.all(np.isfinite(mu)))
        self.assertGreater(np.max(np.abs(mu[-1])), 0.0)
        self.assertLess(r.training.loss_mean[-1], r.training.loss_mean[0])

    def test_deformed(self):
        spec = ex.deformed(ex.mlp(8, [0.3, 1.0], "erf", orders=[2], seed=9,
                                  num_networks=4000), s=1.0, lam=0.5)
        self.assertTrue(self.assert_physical(self.run_spec(spec)))

    def test_phi4_insertion(self):
        spec = ex.phi4_box(200, [0.0, 0.7], box_side=4.0, lam=0.05,
                           mass=1.0, cutoff=5.0, orders=[2], seed=10,
                           num_networks=4000)
        self.assertEqual(spec.insertion,
                         ex.insertion(spec, 0.05).insertion)
        r = self.run_spec(spec)
        self.assert_physical(r)
        self.assertIsNotNone(r.reweight)
        self.assertGreater(r.reweight.ess, 0.0)

    def test_effective_coupling(self):
        base = ex.mlp(8, [-0.5, 0.2, 0.5, 1.0], "erf", orders=[2, 4],
                      seed=11, num_networks=4000)
        r = self.run_spec(ex.effective_coupling(base, [1.0, 2.0]))
        self.assert_physical(r, order=4)
        e = r.effective_coupling
        self.assertIsNotNone(e)
        self.assertTrue(np.all(np.isfinite(e.lam)), e.lam)

    def test_width_sweep_of_conv1d_channels(self):
        base = ex.conv1d(2, [[0.3, -0.5, 1.0], [1.0, 0.4, -0.2]], "erf",
                         sb=0.3, tuples=[[0, 1], [0, 0, 1, 1]], seed=12,
                         num_networks=20000, integrate_output_layer=True)
        r = self.run_spec(ex.width_sweep(base, [2, 4, 8]))
        sw = r.sweep
        self.assertEqual(sw.widths.tolist(), [2, 4, 8])
        i = sw.index((0, 1))
        self.assertTrue(np.all(np.abs(sw.mean[:, i]) > 0))
        self.assertTrue(np.all(np.isfinite(sw.mean[:, i])))

    def test_symmetry_and_cluster(self):
        c, s = np.cos(0.7), np.sin(0.7)
        base = ex.mlp(16, [[0.3, -0.5], [1.0, 0.2]], "erf", orders=[2],
                      seed=13, num_networks=4000)
        spec = ex.symmetry(base, rotation=[[c, -s], [s, c]], label="rot")
        spec = ex.symmetry(spec, phi_sign_flip=True)
        r = self.run_spec(spec)
        self.assertTrue(self.assert_physical(r))
        self.assertEqual([x.kind for x in r.symmetry],
                         ["rotation", "phi_sign_flip"])
        self.assertTrue(all(x.consistent for x in r.symmetry))
        # The joint test over the differences' covariance agrees at 1%.
        for x in r.symmetry:
            if x.dof == 0:  # phi -> -phi at order 2: exact per network
                continue
            self.assertGreater(x.p_value, 0.01, x.kind)
            self.assertGreater(x.hotelling_t2, 0, x.kind)

        g = ex.cluster(ex.gauss_net(100, [0.0], orders=[2], seed=14,
                                    num_networks=4000),
                       [0, 0, 0, 0], [1.0], [0.0, 0.5, 1.0, 2.0])
        r = self.run_spec(g)
        self.assertTrue(self.assert_physical(r))
        self.assertEqual(len(r.cluster), 1)
        self.assertTrue(np.all(np.isfinite(r.cluster[0].value)))


class EnumNameTest(unittest.TestCase):
    def test_names_are_case_insensitive_with_or_without_prefix(self):
        want = nnft.v1.spec_pb2.ACTIVATION_RELU
        for name in ("relu", "RELU", "Relu", "ACTIVATION_RELU",
                     "activation_relu", want):
            spec = ex.mlp(4, [0.5], name)
            self.assertEqual(spec.architecture.mlp.activation, want, name)

    def test_unknown_name_lists_the_valid_ones(self):
        with self.assertRaises(nnft.InvalidSpec) as cm:
            ex.mlp(4, [0.5], "swish")
        msg = str(cm.exception)
        self.assertIn("activation = 'swish'", msg)
        for name in ("identity", "relu", "erf", "gelu", "cos"):
            self.assertIn(name, msg)
        self.assertNotIn("unspecified", msg)
        with self.assertRaisesRegex(nnft.InvalidSpec,
                                    "training.method.*gradient_flow"):
            ex.training(ex.mlp(4, [0.5]), [0.1], [0.2], method="adam")

    def test_dicts_take_short_names(self):
        spec = nnft.to_spec({
            "architecture": {"conv1d": {"sequenceLength": 2, "kernelSize": 1,
                                        "channels": 4, "activation": "relu",
                                        "padding": "zero"}},
            "points": [{"x": [0.1, 0.2]}],
            "training": {"method": "Gradient_Flow"},
            "sampling": {"precision": "float32"}})
        c = spec.architecture.conv1d
        self.assertEqual(c.activation, nnft.v1.spec_pb2.ACTIVATION_RELU)
        self.assertEqual(c.padding, nnft.v1.spec_pb2.PADDING_ZERO)
        self.assertEqual(spec.training.method,
                         nnft.v1.spec_pb2.TRAINING_METHOD_GRADIENT_FLOW)
        self.assertEqual(spec.sampling.precision,
                         nnft.v1.spec_pb2.PRECISION_FLOAT32)
        with self.assertRaisesRegex(nnft.InvalidSpec,
                                    "architecture.mlp.activation = 'rleu'"
                                    ".*relu"):
            nnft.to_spec({"architecture": {"mlp": {"activation": "rleu"}}})

    def test_dicts_and_json_set_integrate_first_layer_bias(self):
        # A new Sampling field reaches Python through the generated stubs:
        # no client code names it.
        d = {"architecture": {"gaussNet": {"inputDim": 1, "width": 4,
                                           "sb0": 1.0}},
             "points": [{"x": [-0.05]}, {"x": [0.05]}],
             "sampling": {"integrateOutputLayer": True,
                          "integrateFirstLayerBias": True}}
        spec = nnft.to_spec(d)
        self.assertTrue(spec.sampling.integrate_first_layer_bias)
        self.assertEqual(nnft.to_dict(spec)["sampling"],
                         {"integrateOutputLayer": True,
                          "integrateFirstLayerBias": True})
        snake = nnft.to_spec(
            '{"sampling": {"integrate_first_layer_bias": true}}')
        self.assertTrue(snake.sampling.integrate_first_layer_bias)
        self.assertFalse(nnft.to_spec({}).sampling.integrate_first_layer_bias)
        built = ex.gauss_net(4, [[-0.05], [0.05]], sb0=1.0,
                             integrate_output_layer=True,
                             integrate_first_layer_bias=True)
        self.assertTrue(built.sampling.integrate_first_layer_bias)
        self.assertFalse(ex.gauss_net(4, [[0.0]]).sampling
                         .integrate_first_layer_bias)


if __name__ == "__main__":
    unittest.main()
