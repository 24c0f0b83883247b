"""Progress display of a watched job: notebook, terminal or plain lines,
with the rate (networks per second) and the time left."""

import math
import sys
import time
from typing import Any, Callable, Optional, TextIO

BAR_WIDTH = 30


class Rate:
    """Networks per second since the first update that showed work left,
    and the estimated time to the end.

    Networks answered from the store arrive at once, so the rate starts at
    the first update seen: a job resumed half-way is not credited with the
    first half. ``clock`` is injectable for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._t0: Optional[float] = None
        self._n0 = 0
        self.per_second = math.nan
        self.eta_s = math.nan

    def update(self, networks_done: int, networks_total: int) -> None:
        now = self._clock()
        if self._t0 is None:
            self._t0, self._n0 = now, networks_done
            return
        dt, dn = now - self._t0, networks_done - self._n0
        if dt > 0 and dn > 0:
            self.per_second = dn / dt
            self.eta_s = max(networks_total - networks_done, 0) / \
                self.per_second


def format_duration(seconds: float) -> str:
    """"1:02:03", "2:03" or "5s"; "?" when unknown."""
    if not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return "%d:%02d:%02d" % (h, m, sec)
    return "%d:%02d" % (m, sec) if m else "%ds" % sec


def format_rate(per_second: float) -> str:
    if not math.isfinite(per_second):
        return "? networks/s"
    return "%.3g networks/s" % per_second


def describe(snap: Any, rate: Optional[Rate] = None) -> str:
    """One line: state, bar, chunks, networks, rate and time left, and the
    first estimate (its error "?" until two chunks give one)."""
    filled = int(round(BAR_WIDTH * snap.fraction))
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    line = "%-9s [%s] %3.0f%% chunks %d/%d networks %d" % (
        snap.state, bar, 100 * snap.fraction, snap.chunks_done,
        snap.chunks_total, snap.networks_done)
    if rate is not None:
        line += "  %s" % format_rate(rate.per_second)
        if snap.state in ("QUEUED", "RUNNING"):
            line += " ETA %s" % format_duration(rate.eta_s)
    if len(snap.mean):
        err = snap.stderr[0]
        line += "  G%s = %.6g +- %s" % (
            "".join(str(i) for i in snap.tuples[0]) if snap.tuples else "",
            snap.mean[0], "%.2g" % err if math.isfinite(err) else "?")
    return line


def _notebook_handle():
    """An IPython display handle when running in a notebook kernel."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return None
    return display("", display_id=True)


def render_progress(job: Any, file: Optional[TextIO] = None,
                    timeout: Optional[float] = None) -> Any:
    """Consumes job.watch() and draws it; returns the final Job message."""
    handle = _notebook_handle() if file is None else None
    out = file or sys.stderr
    live = handle is None and hasattr(out, "isatty") and out.isatty()
    last = None
    rate = Rate()
    for snap in job.watch(max_entries=1, timeout=timeout):
        rate.update(snap.networks_done, snap.networks_total)
        line = describe(snap, rate)
        if handle is not None:
            handle.update(line)
        elif live:
            out.write("\r\x1b[2K" + line)
            out.flush()
        elif line != last:
            out.write(line + "\n")
            out.flush()
        last = line
    if live:
        out.write("\n")
        out.flush()
    return job.job
