"""Per-entry reliability verdicts through the Python client, against a real
nnft-server: a narrow Gauss-net with a large first-layer bias (log-normal
hidden units, estimates dominated by rare networks) has its four-point
entries flagged HEAVY_TAILED, and every entry whose z against the exact
value exceeds 3 carries a warning; a well-behaved erf net is OK everywhere.
Seeds are fixed; each job is well under a second.
"""

import unittest

import numpy as np

import nnft
from nnft import experiments as ex

from server import ServerTestCase


class ReliabilityTest(ServerTestCase):
    def test_heavy_tailed_gauss_net_is_flagged(self):
        spec = ex.gauss_net(2, [[0.05], [-0.05]], sw0=1.0, sb0=1.0, sw1=1.0,
                            orders=[2, 4], seed=3, num_networks=128000,
                            chunk_size=2000, integrate_output_layer=True)
        r = self.client.submit(spec).result(timeout=120)
        self.assertEqual(len(r.verdict), len(r))
        four = r.select(4)
        self.assertTrue(all(r.verdict[i] == "HEAVY_TAILED" for i in four),
                        [r.verdict[i] for i in four])
        for i in range(len(r)):
            if abs(r.z_exact[i]) > 3:
                self.assertNotEqual(r.verdict[i], "OK", (r.tuples[i],
                                                          r.z_exact[i]))
        self.assertIn("rare networks", r.verdict_reason[four[0]])
        self.assertGreater(r.reliability[four[0]].skewness_z, 4)
        self.assertIn("untrusted error bar", repr(r))

    def test_erf_net_is_ok(self):
        spec = ex.mlp(8, [[0.3], [1.0]], "erf", orders=[2, 4], seed=5,
                      num_networks=64000, chunk_size=1000)
        r = self.client.submit(spec).result(timeout=120)
        self.assertEqual(r.verdict, ["OK"] * len(r))
        self.assertTrue(all(rel.dof == r.bins - 1 for rel in r.reliability))
        self.assertTrue(np.allclose([rel.t95 for rel in r.reliability],
                                    r.reliability[0].t95))


if __name__ == "__main__":
    unittest.main()
