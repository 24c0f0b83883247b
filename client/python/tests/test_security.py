"""The Python client against a real nnft-server with TLS and bearer tokens.

A throw-away CA, server and client certificates come from
tests/security/make_test_certs.sh (openssl) in a temporary directory.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import nnft
from nnft import experiments

from server import ServerProcess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
ALICE = "alice-py-0123456789abcdef01"
BOB = "bob-py-0123456789abcdef0123"


def _spec(seed):
    return experiments.mlp(16, [0.3, -0.7], "erf", orders=[2], seed=seed,
                           num_networks=800, chunk_size=200)


class SecurityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="nnft-py-sec-")
        subprocess.run(["bash", os.path.join(ROOT, "tests", "security",
                                             "make_test_certs.sh"), cls.dir],
                       check=True)
        with open(cls.pki("tokens"), "w") as f:
            f.write("# test principals\n%s alice\n%s bob\n" % (ALICE, BOB))
        cls.server = ServerProcess(extra_args=[
            "--tls_cert=" + cls.pki("server.pem"),
            "--tls_key=" + cls.pki("server.key"),
            "--tls_client_ca=" + cls.pki("ca.pem"),
            "--token_file=" + cls.pki("tokens")])
        cls.tls = nnft.TLS(ca=cls.pki("ca.pem"), cert=cls.pki("client.pem"),
                           key=cls.pki("client.key"))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def pki(cls, name):
        return os.path.join(cls.dir, name)

    def client(self, **kw):
        kw.setdefault("timeout", 20)
        return nnft.Client(self.server.address, **kw)

    def test_submit_and_result_over_tls_with_token(self):
        with self.client(token=ALICE, tls=self.tls) as c:
            info = c.info()
            self.assertTrue(info.security.tls)
            self.assertTrue(info.security.client_certificates)
            self.assertEqual(info.security.principal, "alice")
            r = c.submit(_spec(31)).result(timeout=60)
            self.assertEqual(len(r.mean), 3)  # (0,0), (0,1), (1,1)
            # G2 of an erf net against its NNGP kernel, within 5 errors.
            self.assertTrue(all(e > 0 for e in r.stderr))
            self.assertTrue(all(abs(z) < 5 for z in r.z_exact), r.z_exact)

    def test_tls_as_dict_is_accepted(self):
        tls = {"ca": self.pki("ca.pem"), "cert": self.pki("client.pem"),
               "key": self.pki("client.key")}
        with self.client(token=ALICE, tls=tls) as c:
            self.assertEqual(c.info().security.principal, "alice")

    def test_plaintext_and_certificateless_clients_are_refused(self):
        with self.client(token=ALICE, timeout=3) as c:
            with self.assertRaises(nnft.Unavailable):
                c.info()
        with self.client(token=ALICE, tls=self.pki("ca.pem"), timeout=3) as c:
            with self.assertRaises(nnft.Unavailable):
                c.info()

    def test_missing_and_wrong_tokens_are_unauthenticated(self):
        with self.client(tls=self.tls) as c:
            with self.assertRaises(nnft.Unauthenticated) as err:
                c.info()
            self.assertIn("missing", str(err.exception))
        with self.client(token="wrong-token-0123456789", tls=self.tls) as c:
            with self.assertRaises(nnft.Unauthenticated) as err:
                list(c.jobs())
            self.assertNotIn("wrong-token", str(err.exception))

    def test_another_principals_job_is_not_found(self):
        with self.client(token=ALICE, tls=self.tls) as alice:
            job = alice.submit(_spec(32))
            job.result(timeout=60)
        with self.client(token=BOB, tls=self.tls) as bob:
            with self.assertRaises(nnft.NotFound):
                bob.job(job.name)
            self.assertNotIn(job.name, [j.name for j in bob.jobs()])


if __name__ == "__main__":
    unittest.main()
