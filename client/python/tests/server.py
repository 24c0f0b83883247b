"""Starts a real nnft-server for the tests: port 0, a temporary data dir.

The binary comes from $NNFT_SERVER_BINARY (CTest sets it). The server
prints "listening address=HOST:PORT" once it serves (stdout and stderr are
read together); we read the port from that line. Stopped with SIGTERM (it drains and exits 0).
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

START_TIMEOUT_S = 30
_LISTENING = re.compile(r"listening address=(\S+):(\d+)")


def server_binary():
    path = os.environ.get("NNFT_SERVER_BINARY", "")
    if not path or not os.access(path, os.X_OK):
        raise unittest.SkipTest(
            "NNFT_SERVER_BINARY not set to an executable nnft-server (%r)" %
            path)
    return path


class ServerProcess:
    """A running nnft-server. ``address`` is "127.0.0.1:PORT"."""

    def __init__(self, listen="127.0.0.1:0", data_dir=None, threads=2,
                 extra_args=()):
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="nnft-py-test-")
        self.log = []
        self._found = threading.Event()
        self.address = None
        self.proc = subprocess.Popen(
            [server_binary(), "--listen=" + listen,
             "--data_dir=" + self.data_dir, "--worker_threads=%d" % threads]
            + list(extra_args),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._found.wait(START_TIMEOUT_S):
            self.stop()
            raise RuntimeError("nnft-server did not log its address in %d s:"
                               "\n%s" % (START_TIMEOUT_S, "".join(self.log)))

    def _read_log(self):
        for line in self.proc.stdout:
            self.log.append(line)
            m = _LISTENING.search(line)
            if m and not self._found.is_set():
                host = m.group(1)
                if host in ("0.0.0.0", "[::]", "::"):
                    host = "127.0.0.1"
                self.address = "%s:%s" % (host, m.group(2))
                self._found.set()

    @property
    def port(self):
        return int(self.address.rsplit(":", 1)[1])

    def stop(self, timeout=30):
        """SIGTERM, then wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        self.proc.stdout.close()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        return self.proc.returncode


def wait_until(predicate, timeout=30, interval=0.02):
    """Polls predicate() until true; False after timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False


class ServerTestCase(unittest.TestCase):
    """A test class sharing one fresh nnft-server and a client of it
    (cls.server, cls.client); the server must exit cleanly."""

    @classmethod
    def setUpClass(cls):
        import nnft
        cls.server = ServerProcess()
        cls.client = nnft.Client(cls.server.address, timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        code = cls.server.stop()
        assert code == 0, "nnft-server exited %s" % code
