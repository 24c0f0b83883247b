"""Client.submit_batch against a real nnft-server: one call for a scan, each
spec answered on its own, and a retried call returning the same jobs.

Run: PYTHONPATH=build/python NNFT_SERVER_BINARY=build/bin/nnft-server \
       /usr/bin/python3 -m unittest discover -s client/python/tests -p test_batch.py
"""

import unittest

import nnft
from nnft import experiments

from server import ServerTestCase


def tiny(seed, width=8):
    return experiments.mlp(width, [0.0, 0.5], "erf", orders=[2], seed=seed,
                           num_networks=200, chunk_size=100,
                           label="py-batch")


class SubmitBatchTest(ServerTestCase):

    def test_scan_is_answered_per_spec(self):
        specs = [tiny(seed) for seed in range(40, 50)]
        bad = tiny(99)
        bad.architecture.mlp.widths[0] = 0
        jobs = self.client.submit_batch(specs + [bad, specs[0]])
        self.assertEqual(len(jobs), 12)
        for job in jobs[:10]:
            self.assertIsInstance(job, nnft.Job)
        self.assertIsInstance(jobs[10], nnft.errors.InvalidArgument)
        self.assertIn("entries[10].spec.architecture.mlp.widths[0]",
                      str(jobs[10]))
        self.assertEqual(jobs[11].name, jobs[0].name)  # shared
        for job in jobs[:10]:
            job.wait(timeout=60)
            self.assertEqual(job.state, "SUCCEEDED")

    def test_retry_with_request_id_returns_the_same_jobs(self):
        specs = [tiny(seed) for seed in range(60, 65)]
        first = self.client.submit_batch(specs, request_id="py-scan-1")
        again = self.client.submit_batch(specs, request_id="py-scan-1")
        self.assertEqual([j.name for j in first], [j.name for j in again])
        self.assertEqual(first[2].request_id, "py-scan-1/2")

    def test_too_many_specs_raise(self):
        limit = self.client.info().limits.max_batch_entries
        self.assertEqual(limit, 10000)
        with self.assertRaises(nnft.errors.InvalidArgument) as err:
            self.client.submit_batch([tiny(1)] * (limit + 1))
        self.assertIn("max_batch_entries", str(err.exception))


if __name__ == "__main__":
    unittest.main()
