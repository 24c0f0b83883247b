"""A deep MLP's finite-width theory is leading order in 1/width, and the
result says so (ResultHeader.theory_leading_order); a single-hidden-layer
net's is exact. Against a real nnft-server; fixed seeds, small jobs.
"""

import unittest

import numpy as np

import nnft
from nnft import experiments as ex

from server import ServerTestCase


class TheoryKindTest(ServerTestCase):
    def test_deep_net_theory_is_leading_order_in_inverse_width(self):
        spec = ex.mlp([64, 64], [[0.3, -0.5], [1.0, 0.2]], "tanh",
                      orders=[2, 4], seed=4, num_networks=20000,
                      integrate_output_layer=True)
        r = self.client.submit(spec).result(timeout=120)
        self.assertTrue(r.has_exact)
        self.assertTrue(r.theory_leading_order)
        self.assertIn("leading order", r.theory_method)
        four = r.select(4)
        self.assertTrue(np.all(np.isfinite(r.exact_connected[four])))
        # N G4_c = V + O(1/N): at N = 64 within 5 standard errors.
        z = r.z_exact_connected[four]
        self.assertLess(np.max(np.abs(z)), 5.0, z)

    def test_single_layer_theory_is_exact(self):
        spec = ex.mlp(8, [[0.3], [1.0]], "erf", orders=[2, 4], seed=6,
                      num_networks=8000)
        r = self.client.submit(spec).result(timeout=120)
        self.assertTrue(r.has_exact)
        self.assertFalse(r.theory_leading_order)


if __name__ == "__main__":
    unittest.main()
