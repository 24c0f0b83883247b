"""Shared pieces of nnft.plot: figures on the Agg canvas (pyplot is never
touched), PNG output, titles from the experiment, mathtext labels, the
geometry of the points, and tick formatting.

Nothing here computes physics: values are the server's.
"""

import math
import re
import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

DEFAULT_FIGSIZE = (6.4, 4.8)
DEFAULT_DPI = 100

# Titles: lines of at most this many characters, at most two lines.
TITLE_WIDTH = 64
TITLE_LINES = 2

# Relative size of the second singular value of the centred points below
# which they count as lying on a line.
COLLINEAR_TOLERANCE = 1e-9

_ACTIVATION_NAMES = {
    1: "linear", 2: "ReLU", 3: "erf", 4: "tanh", 5: "sigmoid", 6: "GELU",
    7: "softplus", 8: "sin", 9: "cos"}


def new_figure(figsize, dpi):
    """A Figure with its Agg canvas attached (savefig works, no pyplot)."""
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_and_axes(ax, figsize, dpi):
    """(figure, axes): the given axes' figure, or a new one-panel figure."""
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(figsize, dpi)
    return fig, fig.add_subplot(1, 1, 1)


def save(fig, out):
    """Writes a PNG of exactly figsize * dpi pixels when ``out`` is given."""
    if out is not None:
        fig.savefig(out, format="png", dpi=fig.dpi)


def width_of(spec):
    """The width N the spec's architecture is built with (0 if none)."""
    arch = spec.architecture
    kind = arch.WhichOneof("kind")
    if kind == "mlp":
        return arch.mlp.widths[0] if arch.mlp.widths else 0
    if kind == "ou_net":
        return arch.ou_net.mlp.widths[0] if arch.ou_net.mlp.widths else 0
    if kind in ("gauss_net", "cos_net", "kan"):
        return getattr(arch, kind).width
    if kind == "conv1d":
        return arch.conv1d.channels
    if kind == "attention":
        return arch.attention.heads
    return 0


def architecture_summary(spec, size=None):
    """A few words naming the experiment by its architecture, e.g.
    "erf MLP, N = 64, d = 1" or "erf MLP, widths 64-64-64, d = 2"; ``size``
    replaces the "N = 64" part (e.g. for a width sweep)."""
    arch = spec.architecture
    kind = arch.WhichOneof("kind")
    if kind in ("mlp", "ou_net"):
        m = arch.mlp if kind == "mlp" else arch.ou_net.mlp
        act = _ACTIVATION_NAMES.get(m.activation, "?")
        widths = list(m.widths)
        if size is None:
            size = ("N = %d" % widths[0] if len(widths) == 1 else
                    "widths " + "-".join(map(str, widths)))
        name = "%s MLP" % act if kind == "mlp" else \
            "%s MLP on an OU path" % act
        return "%s, %s, d = %d" % (name, size, max(m.input_dim, 1))
    if kind == "null_cone":
        return "null-cone field, D = %d" % arch.null_cone.input_dim
    names = {"gauss_net": "Gauss-net", "cos_net": "cos-net",
             "conv1d": "1-D conv net", "attention": "attention net",
             "kan": "KAN"}
    if kind in names:
        return "%s, %s" % (names[kind], size or "N = %d" % width_of(spec))
    return "nnft experiment"


def wrap_title(text):
    """At most TITLE_LINES lines of TITLE_WIDTH characters (a long label is
    cut with an ellipsis rather than drawn past the figure's edge)."""
    lines = textwrap.wrap(" ".join(text.split()), TITLE_WIDTH)
    if len(lines) > TITLE_LINES:
        lines = lines[:TITLE_LINES]
        lines[-1] = lines[-1][:TITLE_WIDTH - 3].rstrip() + "..."
    return "\n".join(lines)


def title_of(spec, what=""):
    """The experiment's label, else its architecture (never the job id);
    prefixed by ``what`` (the kind of plot) when given; wrapped."""
    name = spec.label.strip() or architecture_summary(spec)
    return wrap_title("%s: %s" % (what, name) if what else name)


def sweep_title(spec, widths):
    """Title of a width sweep: the label without the "width=N" that
    experiments.width_copies appends, else the architecture with N over the
    swept range."""
    label = re.sub(r"\s*width=\d+$", "", spec.label.strip())
    if label:
        return wrap_title("width sweep: " + label)
    size = "N = %g to %g" % (min(widths), max(widths))
    return "width sweep: " + architecture_summary(spec, size)


def correlator_symbol(order, connected=False):
    """Mathtext for G^(n) or G^(n)_c."""
    return r"G^{(%d)}%s" % (order, "_c" if connected else "")


def tuple_text(tup):
    return ",".join(str(i) for i in tup)


def line_coordinates(points):
    """(s, origin, direction) with points[i] = origin + s[i] * direction when
    the points lie on one line (direction a unit vector; for d = 1, origin 0
    and direction +1 so that s is x itself), else None. Two or more distinct
    points are needed."""
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or len(pts) < 2:
        return None
    if pts.shape[1] == 1:
        s = pts[:, 0]
        if np.ptp(s) == 0:
            return None
        return s.copy(), np.zeros(1), np.ones(1)
    centre = pts.mean(axis=0)
    _, sv, vt = np.linalg.svd(pts - centre, full_matrices=False)
    if sv[0] == 0 or (len(sv) > 1 and sv[1] > COLLINEAR_TOLERANCE * sv[0]):
        return None
    direction = vt[0]
    # Orient the direction along its first nonzero coordinate, so that s
    # grows with that coordinate.
    lead = direction[np.flatnonzero(np.abs(direction) > 1e-12)[0]]
    direction = direction * math.copysign(1.0, lead)
    s = (pts - pts[0]) @ direction
    return s, pts[0].copy(), direction


def vector_text(v):
    return "(" + ", ".join("%.3g" % x for x in v) + ")"


def plain_number(x, _pos=None):
    """Tick text without offsets or exponents where a short decimal does,
    e.g. 0, 0.01, 1, 40, 1e+04."""
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return "%g" % x
    exponent = int(math.floor(math.log10(abs(x)) + 1e-9))
    mantissa = x / 10**exponent
    if abs(mantissa - round(mantissa)) < 1e-6 and abs(round(mantissa)) == 1:
        return r"$10^{%d}$" % exponent if x > 0 else r"$-10^{%d}$" % exponent
    return "%.2g" % x


PLAIN_FORMATTER = FuncFormatter(plain_number)


def finite(values):
    """The values as a float array with non-finite entries dropped."""
    v = np.asarray(values, dtype=float).ravel()
    return v[np.isfinite(v)]
