"""The job dashboard of the real nnft-server (--dashboard_listen), end to end:

- a job submitted with the `nnft` CLI shows up in /api/jobs with progress, a
  rate and an ETA while it runs, and its estimate sharpens (more networks,
  smaller standard errors) from one poll to the next;
- headless Chromium renders the page: the DOM holds the job id and an SVG
  parity plot whose data marks have finite coordinates; a width sweep adds
  the log-log plot of the fitted connected correlator with its fit line; the
  screenshot is a real picture (many colours), not a blank page;
- with --token_file: /api/* answers 401 without the right bearer token,
  a principal sees only its own jobs, the page itself shows the token form;
- bad paths (encoded traversal, oversized path or query) are refused.

Run by CTest with the server and CLI paths as arguments. Chromium (Debian's
`chromium`, installed by deploy/install_deps.sh) is required; set
NNFT_SKIP_BROWSER=1 to run only the HTTP checks where it cannot be installed.
"""

import http.client
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

SERVER = CLI = None
ALICE = "alice-dashboard-token-0123456789"
BOB = "bob-dashboard-token-0123456789ab"

# 500 chunks, a few seconds on one core: long enough to watch it run.
SPEC = {
    "label": "dashboard e2e <b>erf</b>",
    "architecture": {"mlp": {"inputDim": 1, "widths": [128],
                             "activation": "ACTIVATION_ERF",
                             "sw": [1.5, 1.0], "sb": [0.5, 0.0]}},
    "points": [{"x": [-0.8]}, {"x": [0.3]}, {"x": [1.0]}],
    "observables": {"orders": [2, 4]},
    "sampling": {"seed": "5", "numNetworks": "1000000", "chunkSize": 2000},
}
SWEEP = {
    "label": "dashboard e2e sweep",
    "architecture": {"mlp": {"inputDim": 1, "widths": [1],
                             "activation": "ACTIVATION_ERF",
                             "sw": [2.0, 1.0], "sb": [0.0, 0.0]}},
    "points": [{"x": [0.5]}, {"x": [-1.0]}],
    "observables": {"orders": [2, 4],
                    "tuples": [{"index": [0, 1]}, {"index": [0, 0, 1, 1]}]},
    "sampling": {"seed": "7", "numNetworks": "40000", "chunkSize": 5000,
                 "integrateOutputLayer": True},
    "widthSweep": {"widths": [2, 4, 8, 16]},
}


def spec(seed, networks=1000000):
    """SPEC with its own seed: a test never finds another's chunks stored."""
    return dict(SPEC, sampling=dict(SPEC["sampling"], seed=str(seed),
                                    numNetworks=str(networks)))


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


BROWSER = chromium()
SKIP_BROWSER = os.environ.get("NNFT_SKIP_BROWSER") == "1"


class Server:
    """nnft-server on 127.0.0.1 port 0 with a dashboard on port 0."""

    def __init__(self, token_file=None):
        self.dir = tempfile.mkdtemp(prefix="nnft-dashboard-")
        args = [SERVER, "--listen=127.0.0.1:0", "--data_dir=" + self.dir,
                "--worker_threads=1", "--dashboard_listen=127.0.0.1:0"]
        if token_file:
            args.append("--token_file=" + token_file)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.address = self.dashboard = None
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                m = re.search(r"dashboard address=\S+:(\d+)", line)
                if m:
                    self.dashboard = "127.0.0.1:" + m.group(1)
                m = re.search(r"listening address=\S+:(\d+)", line)
                if m:
                    self.address = "127.0.0.1:" + m.group(1)
                    ready.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(30) or not self.dashboard:
            self.stop()
            raise RuntimeError("nnft-server did not start with a dashboard")

    def url(self, path):
        return "http://" + self.dashboard + path

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        self.reader.join(5)
        shutil.rmtree(self.dir, ignore_errors=True)
        return self.proc.returncode


def submit(server, spec, token=None):
    """Submits with the CLI; returns the job id (16 hex digits)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json",
                                     delete=False) as f:
        json.dump(spec, f)
    env = dict(os.environ)
    if token:
        env["NNFT_TOKEN"] = token
    try:
        p = subprocess.run([CLI, "--server", server.address, "--format",
                            "json", "submit", f.name], capture_output=True,
                           text=True, timeout=60, env=env)
    finally:
        os.unlink(f.name)
    if p.returncode != 0:
        raise AssertionError("nnft submit failed: " + p.stderr)
    name = re.search(r"jobs/([0-9a-f]{16})", p.stdout)
    if not name:
        raise AssertionError("no job name in: " + p.stdout)
    return name.group(1)


def get(server, path, token=None):
    """(status, parsed JSON body or None)."""
    request = urllib.request.Request(server.url(path))
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, json.loads(body) if body else None


def wait_for(server, job_id, predicate, timeout=600, token=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, detail = get(server, "/api/jobs/" + job_id, token)
        if status == 200 and predicate(detail):
            return detail
        time.sleep(0.05)
    raise AssertionError("job %s: condition not reached in %d s"
                         % (job_id, timeout))


def run_browser(args, profile):
    return subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
         "--user-data-dir=" + profile] + args,
        capture_output=True, text=True, timeout=180)


def dump_dom(url, profile):
    p = run_browser(["--virtual-time-budget=4000", "--dump-dom", url],
                    profile)
    if "<html" not in p.stdout:
        raise AssertionError("chromium printed no DOM: " + p.stderr[-2000:])
    return p.stdout


def svg_of(dom, svg_id):
    m = re.search(r'<svg id="%s"[^>]*>(.*?)</svg>' % svg_id, dom, re.S)
    if not m:
        raise AssertionError("no <svg id=%s> in the DOM" % svg_id)
    return m.group(0)


def finite_circles(svg):
    marks = re.findall(r'<circle cx="([^"]*)" cy="([^"]*)"', svg)
    return [(float(x), float(y)) for x, y in marks
            if math.isfinite(float(x)) and math.isfinite(float(y))], marks


def needs_browser(test):
    """Fails without chromium (the README's test command installs it),
    unless NNFT_SKIP_BROWSER=1 asks to skip the browser checks."""
    def wrapper(self):
        if BROWSER is None:
            if SKIP_BROWSER:
                self.skipTest("chromium missing and NNFT_SKIP_BROWSER=1")
            self.fail("chromium not found: install Debian's chromium "
                      "(deploy/install_deps.sh does) or set "
                      "NNFT_SKIP_BROWSER=1 to skip the browser checks")
        return test(self)
    wrapper.__name__ = test.__name__
    return wrapper


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.profile = tempfile.mkdtemp(prefix="nnft-chromium-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.profile, ignore_errors=True)
        assert cls.server.stop() == 0

    def test_running_job_shows_progress_and_sharpens(self):
        job = submit(self.server, spec(11))
        # A first look with error bars (>= 8 chunks) before a quarter of
        # the job has run.
        first = wait_for(self.server, job, lambda d: d["estimate"] and
                         d["estimate"]["chunks"] >= 8)
        row = first["job"]
        self.assertEqual(row["state"], "RUNNING")
        self.assertLessEqual(first["estimate"]["chunks"], 125,
                             "the job ran past a quarter before the first "
                             "poll: nothing to compare")
        self.assertEqual(row["label"], SPEC["label"])
        self.assertEqual(row["networks_total"], 1000000)
        self.assertLess(row["networks_done"], row["networks_total"])
        self.assertGreater(row["rate"], 0)
        self.assertGreater(row["eta_s"], 0)
        done = wait_for(self.server, job,
                        lambda d: d["job"]["state"] == "SUCCEEDED")
        # At least four times the networks: every standard error shrinks
        # (by half or more; the bound leaves room for the error of the error).
        self.assertGreaterEqual(done["estimate"]["networks"],
                                4 * first["estimate"]["networks"])
        for a, b in zip(first["entries"], done["entries"]):
            self.assertEqual(a["tuple"], b["tuple"])
            self.assertLess(b["stderr"], 0.8 * a["stderr"], a["tuple"])
        status, listing = get(self.server, "/api/jobs")
        self.assertEqual(status, 200)
        self.assertIn(job, [j["id"] for j in listing["jobs"]])
        self.assertEqual(done["job"]["eta_s"], 0)
        self.assertEqual(done["theory"]["kind"], "exact")
        # The finished estimate against exact finite-width theory (seeded):
        # every entry within 5 standard errors.
        for e in done["entries"]:
            self.assertLess(abs(e["z"]), 5.0, e)

    @needs_browser
    def test_page_draws_the_parity_plot_of_a_job(self):
        job = submit(self.server, spec(12, 100000))
        wait_for(self.server, job, lambda d: d["estimate"] is not None)
        dom = dump_dom(self.server.url("/#" + job), self.profile)
        self.assertIn(job, dom)
        self.assertIn(SPEC["label"].replace("<", "&lt;").replace(">", "&gt;"),
                      dom)  # shown as text, not markup
        self.assertNotIn("<b>erf</b>", dom)
        marks, raw = finite_circles(svg_of(dom, "parity"))
        # One mark per entry with theory: G2 and G4 over 3 points.
        self.assertEqual(len(marks), len(raw))
        self.assertGreaterEqual(len(marks), 9)
        for x, y in marks:  # inside the 560 x 420 plot
            self.assertTrue(0 <= x <= 560 and 0 <= y <= 420, (x, y))
        self.assertIn('class="diag"', svg_of(dom, "parity"))
        # Beside it the deviations from theory, the same marks.
        residual, _ = finite_circles(svg_of(dom, "residual"))
        self.assertEqual(len(residual), len(marks))

    @needs_browser
    def test_page_draws_the_width_sweep_fit(self):
        job = submit(self.server, SWEEP)
        wait_for(self.server, job,
                 lambda d: d["job"]["state"] == "SUCCEEDED")
        dom = dump_dom(self.server.url("/#" + job), self.profile)
        sweep = svg_of(dom, "sweep")
        self.assertNotIn("hidden", sweep[:sweep.index(">")])
        marks, raw = finite_circles(sweep)
        self.assertEqual(len(marks), 4)  # one per width
        self.assertEqual(len(raw), 4)
        self.assertRegex(sweep, r'<path d="M[-0-9.]+ [-0-9.]+ L')
        self.assertIn("fit |G_c| = A N^s", dom)

    @needs_browser
    def test_screenshot_is_a_picture(self):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.image
        import numpy as np
        job = submit(self.server, spec(13, 100000))
        wait_for(self.server, job, lambda d: d["estimate"] is not None)
        png = os.path.join(self.profile, "dashboard.png")
        p = run_browser(["--virtual-time-budget=4000", "--screenshot=" + png,
                         "--window-size=1200,900", self.server.url("/#" + job)],
                        self.profile)
        self.assertTrue(os.path.exists(png), p.stderr[-2000:])
        image = matplotlib.image.imread(png)
        self.assertEqual(image.shape[:2], (900, 1200))
        rgb = (image[:, :, :3] * 255).astype(np.uint8).reshape(-1, 3)
        colours = np.unique(rgb, axis=0)
        # Text, plot marks, axes and table: many colours; a blank or
        # one-colour page has one or two.
        self.assertGreater(len(colours), 50)
        background = np.all(rgb == 255, axis=1).mean()
        self.assertLess(background, 0.98)
        if os.environ.get("NNFT_DASHBOARD_PNG"):  # keep it to look at
            shutil.copy(png, os.environ["NNFT_DASHBOARD_PNG"])

    def test_bad_paths_are_refused(self):
        def status(target):
            c = http.client.HTTPConnection(self.server.dashboard, timeout=30)
            c.request("GET", target)
            code = c.getresponse().status
            c.close()
            return code
        self.assertEqual(status("/api/jobs/%2e%2e/%2e%2e/etc/passwd"), 400)
        self.assertEqual(status("/../../etc/passwd"), 400)
        self.assertEqual(status("/api/jobs/0123456789abcdef"), 404)
        self.assertEqual(status("/api/jobs/not-a-job"), 404)
        self.assertEqual(status("/api/jobs?limit=" + "9" * 600), 414)
        self.assertEqual(status("/api/jobs?limit=0"), 400)
        self.assertIn(status("/" + "a" * 20000), (400, 413, 414, 431))
        self.assertEqual(status("/etc/passwd"), 404)


class DashboardTokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnft-dashboard-tokens-")
        tokens = os.path.join(cls.tmp, "tokens")
        with open(tokens, "w") as f:
            f.write("%s alice\n%s bob\n" % (ALICE, BOB))
        cls.server = Server(token_file=tokens)

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_data_needs_the_token_and_shows_only_own_jobs(self):
        job = submit(self.server, spec(14, 20000), token=ALICE)
        for path in ("/api/jobs", "/api/jobs/" + job):
            self.assertEqual(get(self.server, path)[0], 401)
            self.assertEqual(get(self.server, path, token="wrong" * 5)[0],
                             401)
        status, mine = get(self.server, "/api/jobs", token=ALICE)
        self.assertEqual(status, 200)
        self.assertEqual([j["id"] for j in mine["jobs"]], [job])
        self.assertEqual(get(self.server, "/api/jobs/" + job, ALICE)[0], 200)
        status, theirs = get(self.server, "/api/jobs", token=BOB)
        self.assertEqual(status, 200)
        self.assertEqual(theirs["jobs"], [])
        self.assertEqual(get(self.server, "/api/jobs/" + job, BOB)[0], 404)

    @needs_browser
    def test_page_without_token_asks_for_one(self):
        profile = os.path.join(self.tmp, "profile")
        job = submit(self.server, spec(15, 20000), token=ALICE)
        dom = dump_dom(self.server.url("/#" + job), profile)
        self.assertIn('id="tokenform"', dom)
        self.assertIn("needs a token", dom)
        self.assertNotIn("<circle", dom)


if __name__ == "__main__":
    SERVER, CLI = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
