"""Progress display of a watched job: notebook, terminal or plain lines."""

import sys

BAR_WIDTH = 30


def describe(snap):
    """One line: state, bar, chunks, networks, and the first estimate."""
    filled = int(round(BAR_WIDTH * snap.fraction))
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    line = "%-9s [%s] %3.0f%% chunks %d/%d networks %d" % (
        snap.state, bar, 100 * snap.fraction, snap.chunks_done,
        snap.chunks_total, snap.networks_done)
    if len(snap.mean):
        line += "  G%s = %.6g +- %.2g" % (
            "".join(str(i) for i in snap.tuples[0]) if snap.tuples else "",
            snap.mean[0], snap.stderr[0])
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


def render_progress(job, file=None, timeout=None):
    """Consumes job.watch() and draws it; returns the final Job message."""
    handle = _notebook_handle() if file is None else None
    out = file or sys.stderr
    live = handle is None and hasattr(out, "isatty") and out.isatty()
    last = None
    for snap in job.watch(max_entries=1, timeout=timeout):
        line = describe(snap)
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
