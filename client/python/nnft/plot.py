"""Plots of results with matplotlib (Agg canvas; pyplot is never touched).

Comparisons of the Monte Carlo with theory, for any point set:
- ``plot_parity``: every estimate against its theory value (exact at the
  spec's width, else infinite width) with error bars, beside the line y = x.
- ``plot_z_histogram``: the z-scores (estimate - theory) / stderr against the
  standard normal density.
- ``plot_comparison``: the two side by side.
Kernels:
- ``plot_kernel``: heat map of a P x P kernel (ComputeKernel's
  ``client.kernel(spec).kernel``, a Result's ``kernel``, or any array).
- ``plot_kernel_comparison``: the NNGP kernel, the estimated G^(2) and their
  difference in standard errors, as three heat maps.
Correlators along a line:
- ``plot_correlator``: G^(n)(x_ref, x, .., x) against the coordinate of x
  along the line the points lie on, with error bars and the theory (a fine
  curve from ComputeKernel when given a client); refuses points that are not
  on a line.
Width sweeps, training, analyses:
- ``plot_sweep`` (one width-sweep job) and ``plot_width_sweep`` (one job per
  width): |G^(n)_c| against N with power laws, chi^2/dof, exact values and a
  residual panel.
- ``plot_training_flow``: mu_t(x), Sigma_t(x, x) and the loss against
  training time, beside the NTK theory.
- ``plot_conformal``: the null-cone field's g(u, v) against its exact value.
- ``plot_rp_spectrum``: the reflection-positivity eigenvalues with errors.
- ``plot_result``: whichever of the above fits the result.

Titles are the experiment's label (its architecture when it has none),
labels are mathtext. Each function returns the Figure (some also a fit);
with ``out`` it also writes a PNG of exactly figsize * dpi pixels.
"""

import copy
import math

import numpy as np

from nnft import _plot_base as base
from nnft._plot_base import DEFAULT_DPI, DEFAULT_FIGSIZE
from nnft._plot_sweep import (PowerLawFit, fit_power_law,  # noqa: F401
                              plot_sweep, plot_width_sweep, sweep_values)
from nnft._plot_training import plot_training_flow  # noqa: F401

# Points of the fine theory curve of plot_correlator (ComputeKernel).
FINE_POINTS = 200


# -- theory beside the estimate ---------------------------------------------

def _pick_theory(result, theory, connected):
    """("exact" or "gp", values, z, legend name) for the entries."""
    if theory not in ("auto", "exact", "gp"):
        raise ValueError("theory %r: must be auto, exact or gp" % theory)
    exact = result.exact_connected if connected else result.exact
    if theory == "auto":
        theory = "exact" if np.isfinite(exact).any() else "gp"
    if theory == "exact":
        values = exact
        z = result.z_exact_connected if connected else result.z_exact
        name = ("finite-width theory, leading order in 1/N"
                if result.theory_leading_order else
                "exact, N = %d" % base.width_of(result.spec))
    else:
        values = result.gp_connected if connected else result.gp
        if connected:  # the server sends no z against the Wick value
            with np.errstate(divide="ignore", invalid="ignore"):
                z = (result.connected - values) / result.connected_stderr
        else:
            z = result.z_gp
        name = "infinite width (NNGP, Wick)"
    return theory, values, z, name


def _comparison_text(result, which, connected, z):
    """chi^2/dof as the server computed it, else from the z-scores."""
    c = {"exact": result.vs_exact_connected if connected else
         result.vs_exact, "gp": None if connected else result.vs_gp}[which]
    zf = base.finite(z)
    if c is not None and c.dof > 0:
        return r"$\chi^2/\mathrm{dof} = %.3g$ (%d dof), max $|z|$ = %.2f" % (
            c.chi2_per_dof, c.dof, c.max_abs_z)
    if zf.size:
        return r"$\sum z^2/n = %.3g$ (n = %d), max $|z|$ = %.2f" % (
            float(np.mean(zf**2)), zf.size, float(np.max(np.abs(zf))))
    return "no theory to compare with"


def _entries(result, orders):
    if len(result) == 0:
        raise ValueError("%s has no correlator entries (a %s result)" % (
            result.name, "width-sweep" if result.sweep is not None else
            result.kind))
    keep = np.ones(len(result), bool) if orders is None else \
        np.isin(result.orders, list(orders))
    if not keep.any():
        raise ValueError("%s has no entries of order %s" % (
            result.name, "/".join(map(str, orders))))
    return keep


def plot_parity(result, *, theory="auto", connected=False, orders=None,
                ax=None, out=None, figsize=DEFAULT_FIGSIZE, dpi=DEFAULT_DPI):
    """Parity plot: each entry's Monte Carlo estimate (with its standard
    error) against its theory value, one colour per order, and y = x.

    theory: "exact" (at the spec's width), "gp" (infinite width) or "auto"
    (exact where the server knows any, else infinite width); entries without
    a theory value are left out (counted in the legend). connected: the
    connected parts G_c instead of G. orders: the orders to draw (default
    all). The chi^2/dof of the server's comparison is written in the plot.
    """
    keep = _entries(result, orders)
    which, values, z, name = _pick_theory(result, theory, connected)
    est = result.connected if connected else result.mean
    err = result.connected_stderr if connected else result.stderr
    has = keep & np.isfinite(values) & np.isfinite(est)
    if not has.any():
        raise ValueError("%s: no entry has a %s theory value to compare with"
                         % (result.name, which))
    fig, ax = base.figure_and_axes(ax, figsize, dpi)
    lo = float(min(values[has].min(), (est[has] - err[has]).min()))
    hi = float(max(values[has].max(), (est[has] + err[has]).max()))
    pad = 0.04 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "-", color="0.6",
            lw=1, label=r"$y = x$", zorder=1)
    for k, n in enumerate(sorted(set(result.orders[has].tolist()))):
        sel = has & (result.orders == n)
        ax.errorbar(values[sel], est[sel], yerr=err[sel], fmt="o", ms=3.5,
                    capsize=2, color="C%d" % k, zorder=2,
                    label=r"$%s$ (%d)" % (base.correlator_symbol(n, connected),
                                          sel.sum()))
    missing = int((keep & ~has).sum())
    if missing:
        ax.plot([], [], " ", label="%d without theory" % missing)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal", adjustable="box")
    kind = r"G_c" if connected else "G"
    ax.set_xlabel(r"theory $%s$: %s" % (kind, name))
    ax.set_ylabel(r"Monte Carlo $%s$ (%d networks)" % (kind, result.networks))
    ax.set_title(base.title_of(result.spec), fontsize=10)
    ax.text(0.03, 0.97, _comparison_text(result, which, connected, z),
            transform=ax.transAxes, va="top", fontsize=8, zorder=5,
            bbox=dict(boxstyle="round", fc="white", ec="0.8", alpha=0.9))
    ax.legend(fontsize=7, loc="lower right")
    base.save(fig, out)
    return fig


def _normal_pdf(x):
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def plot_z_histogram(result, *, theory="auto", connected=False, orders=None,
                     ax=None, out=None, figsize=DEFAULT_FIGSIZE,
                     dpi=DEFAULT_DPI):
    """Histogram (as a density) of the z-scores (estimate - theory) /
    stderr of the entries, with the standard normal density they follow when
    estimate and errors are right. ``theory``, ``connected`` and ``orders``
    as in plot_parity; z-scores beyond +-6 are counted in the outer bins.

    The entries share the same networks, so their z-scores are correlated:
    the histogram of a few entries scatters more than independent draws.
    """
    keep = _entries(result, orders)
    which, _, z, name = _pick_theory(result, theory, connected)
    zs = base.finite(z[keep])
    if zs.size == 0:
        raise ValueError("%s: no entry has a %s z-score" % (result.name,
                                                             which))
    fig, ax = base.figure_and_axes(ax, figsize, dpi)
    edge = min(6.0, max(4.0, math.ceil(float(np.max(np.abs(zs))) * 2) / 2))
    nbins = int(np.clip(round(math.sqrt(zs.size) * 1.5), 8, 48))
    bins = np.linspace(-edge, edge, nbins + 1)
    ax.hist(np.clip(zs, -edge + 1e-9, edge - 1e-9), bins=bins, density=True,
            color="C0", alpha=0.6, edgecolor="C0",
            label="%d entries" % zs.size)
    grid = np.linspace(-edge, edge, 400)
    ax.plot(grid, _normal_pdf(grid), "-", color="C3", lw=1.5,
            label=r"$\mathcal{N}(0, 1)$")
    ax.set_xlim(-edge, edge)
    ax.set_xlabel(r"$z = (G_{\mathrm{MC}} - G_{\mathrm{theory}})/\sigma$"
                  if not connected else
                  r"$z = (G_{c,\mathrm{MC}} - G_{c,\mathrm{theory}})/\sigma$")
    ax.set_ylabel("density")
    ax.set_title("%s\nagainst %s" % (base.title_of(result.spec), name),
                 fontsize=9)
    ax.text(0.03, 0.97, "mean %.2f, std %.2f\n%s" % (
        float(zs.mean()), float(zs.std()),
        _comparison_text(result, which, connected, z)),
        transform=ax.transAxes, va="top", fontsize=7, zorder=5,
        bbox=dict(boxstyle="round", fc="white", ec="0.8", alpha=0.9))
    ax.legend(fontsize=7, loc="upper right")
    base.save(fig, out)
    return fig


def plot_comparison(result, *, theory="auto", connected=False, orders=None,
                    out=None, figsize=(10.0, 4.6), dpi=DEFAULT_DPI):
    """plot_parity and plot_z_histogram side by side."""
    fig = base.new_figure(figsize, dpi)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    plot_parity(result, theory=theory, connected=connected, orders=orders,
                ax=left)
    plot_z_histogram(result, theory=theory, connected=connected,
                     orders=orders, ax=right)
    fig.tight_layout()
    base.save(fig, out)
    return fig


# -- kernels ----------------------------------------------------------------

def _kernel_axes(points):
    """(extent kwargs, x label, y label): coordinates when the points are
    1-D and increasing, else point indices."""
    pts = None if points is None else np.asarray(points, dtype=float)
    if pts is not None and pts.ndim == 2 and pts.shape[1] == 1 and \
            len(pts) > 1 and np.all(np.diff(pts[:, 0]) > 0):
        x = pts[:, 0]
        mid = (x[1:] + x[:-1]) / 2
        edges = np.concatenate([[x[0] - (mid[0] - x[0])], mid,
                                [x[-1] + (x[-1] - mid[-1])]])
        return edges, r"$x_j$", r"$x_i$"
    return None, r"point index $j$", r"point index $i$"


def _heat_map(ax, matrix, points, cmap, label, vmin=None, vmax=None):
    edges, xl, yl = _kernel_axes(points)
    if edges is None:
        n = matrix.shape[0]
        edges = np.arange(n + 1) - 0.5
    mesh = ax.pcolormesh(edges, edges, matrix, cmap=cmap, vmin=vmin,
                         vmax=vmax, shading="flat")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(edges[-1], edges[0])  # row i = 0 at the top, as a matrix
    ax.set_aspect("equal")
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    bar = ax.figure.colorbar(mesh, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label(label)
    return mesh


def plot_kernel(kernel, *, points=None, spec=None, title=None, ax=None,
                out=None, cmap="viridis", figsize=DEFAULT_FIGSIZE,
                dpi=DEFAULT_DPI):
    """Heat map of a P x P kernel K(x_i, x_j).

    kernel: a ``Kernel`` (``client.kernel(spec)``, ComputeKernel), a
    ``Result`` (its NNGP kernel; points and title from its spec) or a P x P
    array. points/spec: the spec's points and spec, for the axes (1-D
    increasing points give coordinate axes; otherwise point indices) and the
    title (the spec's label, else its architecture).
    """
    if hasattr(kernel, "spec") and hasattr(kernel, "points"):  # a Result
        spec = spec if spec is not None else kernel.spec
        points = kernel.points if points is None else points
    matrix = getattr(kernel, "kernel", kernel)
    name = "NNGP kernel"
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or \
            matrix.size == 0:
        raise ValueError("plot_kernel: expected a square kernel, got shape "
                         "%s" % (matrix.shape,))
    if spec is not None and points is None:
        points = [list(p.x) for p in spec.points]
    if points is not None and len(points) != matrix.shape[0]:
        points = None  # slots (output components) or extra points
    fig, ax = base.figure_and_axes(ax, figsize, dpi)
    _heat_map(ax, matrix, points, cmap, r"$K(x_i, x_j)$")
    if title is None:
        title = base.title_of(spec, name) if spec is not None else name
    ax.set_title(title, fontsize=10)
    base.save(fig, out)
    return fig


def _pair_matrices(result):
    """(G2, stderr, z) as P x P matrices from the order-2 entries (NaN where
    a pair was not requested)."""
    p = result.kernel.shape[0]
    g, e, z = (np.full((p, p), np.nan) for _ in range(3))
    zs = result.z_exact if np.isfinite(result.z_exact).any() else result.z_gp
    for i in result.select(2):
        a, b = result.tuples[i]
        if a < p and b < p:
            for r, c in ((a, b), (b, a)):
                g[r, c], e[r, c], z[r, c] = (result.mean[i], result.stderr[i],
                                             zs[i])
    return g, e, z


def plot_kernel_comparison(result, *, out=None, figsize=(13.0, 4.2),
                           dpi=DEFAULT_DPI, z_range=4.0):
    """Three heat maps over the spec's points: the infinite-width kernel
    K(x_i, x_j) the server computed, the Monte Carlo G^(2)(x_i, x_j) on the
    same colour scale, and the z-score of the estimate against theory (exact
    at the spec's width where known, else K) on a diverging scale clipped at
    +-z_range. Needs the order-2 entries (pairs not requested stay blank).
    """
    if not len(result) or not len(result.select(2)):
        raise ValueError("%s has no G^(2) entries to compare with the "
                         "kernel" % result.name)
    k = result.kernel
    g, _, z = _pair_matrices(result)
    points = result.points if len(result.points) == k.shape[0] else None
    fig = base.new_figure(figsize, dpi)
    axes = [fig.add_subplot(1, 3, i + 1) for i in range(3)]
    both = base.finite(np.concatenate([k.ravel(), g.ravel()]))
    vmin, vmax = (float(both.min()), float(both.max())) if both.size else \
        (None, None)
    _heat_map(axes[0], k, points, "viridis", r"$K(x_i, x_j)$", vmin, vmax)
    axes[0].set_title("theory: NNGP kernel", fontsize=9)
    _heat_map(axes[1], g, points, "viridis", r"$G^{(2)}(x_i, x_j)$", vmin,
              vmax)
    axes[1].set_title("Monte Carlo, %d networks" % result.networks,
                      fontsize=9)
    _heat_map(axes[2], z, points, "RdBu_r", r"$z$", -z_range, z_range)
    which = "exact" if np.isfinite(result.z_exact).any() else "NNGP"
    axes[2].set_title(r"$z = (G^{(2)} - G^{(2)}_{\mathrm{%s}})/\sigma$"
                      % which, fontsize=9)
    fig.suptitle(base.title_of(result.spec), fontsize=10)
    fig.tight_layout()
    base.save(fig, out)
    return fig


# -- correlators along a line -------------------------------------------------

def correlator_vs_separation(result, order=2, reference=0, theory="auto"):
    """(separations, mean, stderr, theory, theory_name) of the entries
    G(x_ref, x_ref, .., x_j) of the given order, sorted by separation.

    theory: "exact" (at the spec's width), "gp" (infinite width) or "auto"
    (exact where the server knows it, else infinite width).
    """
    rows = _line_entries(result, order, reference)
    rows.sort(key=lambda r: np.linalg.norm(
        result.points[r[1]] - result.points[reference]))
    idx = np.array([i for i, _ in rows])
    sep = np.array([np.linalg.norm(result.points[j] -
                                   result.points[reference])
                    for _, j in rows])
    if theory not in ("auto", "exact", "gp"):
        raise ValueError("theory %r: must be auto, exact or gp" % theory)
    use_exact = theory == "exact" or (
        theory == "auto" and np.all(np.isfinite(result.exact[idx])))
    values = result.exact[idx] if use_exact else result.gp[idx]
    name = ("exact (N = %s)" % base.width_of(result.spec) if use_exact else
            "infinite width (NNGP)")
    return sep, result.mean[idx], result.stderr[idx], values, name


def _line_entries(result, order, reference):
    """[(entry index, j)] of the entries (x_ref, x_j, .., x_j) of ``order``
    (one x_ref, the rest at one point j; j = ref included)."""
    rows = []
    for i, t in enumerate(result.tuples):
        if len(t) != order or reference not in t:
            continue
        rest = list(t)
        rest.remove(reference)
        if rest and all(j == rest[0] for j in rest):
            rows.append((i, rest[0]))
    if not rows:
        raise ValueError("no order-%d entries pairing point %d with another"
                         % (order, reference))
    return rows


def on_a_line(result):
    """Whether the result's points lie on one line (plot_correlator draws
    only those)."""
    return base.line_coordinates(result.points) is not None


def _fine_theory(client, result, order, reference, s_range, line, which,
                 connected, fine_points):
    """(s, values) of the theory on a fine grid of the line, from
    ComputeKernel on a copy of the spec with those points, or None when the
    spec carries more than a plain correlator experiment."""
    spec = result.spec
    plain = not (spec.HasField("training") or spec.HasField("insertion") or
                 len(spec.width_sweep.widths) or spec.symmetry_checks or
                 spec.cluster_checks or
                 spec.HasField("reflection_positivity"))
    kind = spec.architecture.WhichOneof("kind")
    d_out = getattr(getattr(spec.architecture, kind), "output_dim", 0) \
        if kind else 0
    if not plain or d_out > 1 or kind == "null_cone":
        return None
    s_values, origin, direction = line
    s = np.linspace(s_range[0], s_range[1], int(fine_points))
    fine = copy.deepcopy(spec)
    del fine.points[:]
    fine.points.add().x.extend(result.points[reference].tolist())
    for sk in s:
        fine.points.add().x.extend((origin + sk * direction).tolist())
    fine.observables.Clear()
    fine.observables.orders.append(order)
    for k in range(len(s)):
        fine.observables.tuples.add().index.extend([0] + [k + 1] *
                                                   (order - 1))
    fine.ClearField("effective_coupling")
    kernel = client.kernel(fine)
    if which == "exact":
        values = kernel.exact_connected if connected else kernel.exact
    else:
        values = kernel.gp_connected if connected else kernel.gp
    if len(values) != len(s) or not np.all(np.isfinite(values)):
        return None
    return s, values


def plot_correlator(result, *, order=2, reference=0, theory="auto",
                    connected=False, client=None, fine_points=FINE_POINTS,
                    ax=None, out=None, figsize=DEFAULT_FIGSIZE,
                    dpi=DEFAULT_DPI):
    """G^(n)(x_ref, x, .., x) (or its connected part) against the position
    of x on the line the spec's points lie on: x itself for d = 1, else s in
    x = x_0 + s u. Monte Carlo with standard errors, and the theory
    ("exact", "gp" or "auto", as in plot_parity).

    With ``client`` (an nnft.Client) the theory is a curve through
    ``fine_points`` points of the line, computed by the server's
    ComputeKernel; without one (or for a spec with analyses) the result
    carries theory only at its points, drawn as open markers there.

    Raises ValueError when the points do not lie on a line (a plot against
    one coordinate would mix directions): use plot_parity then.
    """
    line = base.line_coordinates(result.points)
    if line is None:
        raise ValueError(
            "%s: the %d points (d = %d) do not lie on a line, so G^(%d) has "
            "no single coordinate to be plotted against; use "
            "nnft.plot.plot_parity(result) (Monte Carlo against theory) or "
            "plot_z_histogram instead" % (result.name, len(result.points),
                                          result.points.shape[1]
                                          if result.points.ndim == 2 else 0,
                                          order))
    s_all = line[0]
    rows = _line_entries(result, order, reference)
    rows.sort(key=lambda r: s_all[r[1]])
    idx = np.array([i for i, _ in rows])
    s = s_all[[j for _, j in rows]]
    which, values, _, name = _pick_theory(result, theory, connected)
    est = (result.connected if connected else result.mean)[idx]
    err = (result.connected_stderr if connected else result.stderr)[idx]
    values = values[idx]
    fig, ax = base.figure_and_axes(ax, figsize, dpi)
    fine = None
    if client is not None:
        fine = _fine_theory(client, result, order, reference,
                            (float(s_all.min()), float(s_all.max())), line,
                            which, connected, fine_points)
    if fine is not None:
        ax.plot(fine[0], fine[1], "-", color="C1", lw=1.5, label=name)
    elif np.isfinite(values).any():
        ax.plot(s, values, "D", mfc="none", color="C1", ms=7,
                label=name + " (at the points)")
    ax.errorbar(s, est, yerr=err, fmt="o", color="C0", ms=4, capsize=3,
                label="Monte Carlo (%d networks)" % result.networks)
    ax.axvline(s_all[reference], color="0.8", lw=0.8, zorder=0)
    d = result.points.shape[1]
    x_label = r"$x$" if d == 1 else r"$s$, on the line $x = x_0 + s\,\hat u$"
    ax.set_xlabel(x_label)
    ax.xaxis.set_major_formatter(base.PLAIN_FORMATTER)
    args = ", ".join([r"x_{%d}" % reference] + ["x"] * (order - 1))
    ax.set_ylabel(r"$%s(%s)$" % (base.correlator_symbol(order, connected),
                                 args))
    title = base.title_of(result.spec)
    if d > 1:
        title += r", $\hat u$ = %s" % base.vector_text(line[2])
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    base.save(fig, out)
    return fig


# -- analyses ------------------------------------------------------------------

def plot_conformal(result, *, ax=None, out=None, figsize=DEFAULT_FIGSIZE,
                   dpi=DEFAULT_DPI):
    """g(u, v) = G4 / (X12 X34) of a null-cone result: Monte Carlo with
    error bars against the exact value, and the line y = x."""
    if result.conformal is None:
        raise ValueError("%s has no conformal result (not a null-cone field)"
                         % result.name)
    a = result.conformal_arrays()
    fig, ax = base.figure_and_axes(ax, figsize, dpi)
    if len(a["g"]):
        lo = float(np.nanmin(a["g_exact"]))
        hi = float(np.nanmax(a["g_exact"]))
        pad = 0.05 * (hi - lo or abs(hi) or 1.0)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "-", color="0.6",
                lw=1, label=r"exact $\frac{\mu_4}{3}(1 + 1/u + v/u)$")
        ax.errorbar(a["g_exact"], a["g"], yerr=a["g_stderr"], fmt="o",
                    ms=3, capsize=2, label="Monte Carlo")
    c = result.conformal
    ax.set_xlabel(r"exact $g(u, v)$")
    ax.set_ylabel(r"$g(u, v)$ from the estimated $\mu_4$")
    ax.set_title(base.title_of(result.spec), fontsize=10)
    ax.text(0.03, 0.97, r"$D = %d$: $\mu_4 = %.4g \pm %.2g$ (exact %.4g)"
            % (c.dimension, c.mu4.value, c.mu4.stderr, c.mu4.exact),
            transform=ax.transAxes, va="top", fontsize=8)
    ax.legend(fontsize=8, loc="lower right")
    base.save(fig, out)
    return fig


def plot_rp_spectrum(result, *, ax=None, out=None, figsize=DEFAULT_FIGSIZE,
                     dpi=DEFAULT_DPI, four_point=False):
    """Eigenvalues (ascending) of <phi(theta x_i) phi(x_j)> (or of the
    four-point matrix) with jackknife errors, exact values, and the verdict;
    symmetric-log axis (linear within the smallest |eigenvalue|, ticks on
    decades only) so that negative eigenvalues show."""
    if result.reflection is None:
        raise ValueError("%s has no reflection-positivity result"
                         % result.name)
    rp = result.reflection
    m = rp.four_point if four_point else rp.two_point
    fig, ax = base.figure_and_axes(ax, figsize, dpi)
    k = np.arange(len(m.eigenvalues))
    ax.axhline(0.0, color="0.6", lw=1)
    ax.errorbar(k, list(m.eigenvalues), yerr=list(m.eigenvalue_stderr),
                fmt="o", capsize=3, label="Monte Carlo")
    if m.has_exact:
        ax.plot(k, list(m.exact_eigenvalues), "x", color="C3", ms=8,
                label="exact")
    values = np.abs(np.array(list(m.eigenvalues), dtype=float))
    small = values[values > 0].min() if np.any(values > 0) else 1.0
    linthresh = 10.0**math.floor(math.log10(max(small, 1e-12)))
    ax.set_yscale("symlog", linthresh=linthresh, linscale=0.5)
    from matplotlib.ticker import NullFormatter, SymmetricalLogLocator
    locator = SymmetricalLogLocator(linthresh=linthresh, base=10)
    locator.set_params(subs=[1.0], numticks=9)
    ax.yaxis.set_major_locator(locator)
    ax.yaxis.set_major_formatter(base.PLAIN_FORMATTER)
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(k)
    ax.set_xlabel("eigenvalue index (ascending)")
    ax.set_ylabel(r"eigenvalue $\lambda_k$")
    matrix = (r"$\langle \phi(\theta x_i)\,\phi(x_j) \rangle$"
              if not four_point else "the four-point matrix")
    ax.set_title("%s\nreflection positivity of %s: %s (z = %.2f, "
                 "P(<0) = %.3g)" % (base.title_of(result.spec), matrix,
                                    m.verdict, m.z, m.p_negative),
                 fontsize=9)
    ax.legend(fontsize=8)
    base.save(fig, out)
    return fig


def plot_result(result, *, out=None, **kwargs):
    """Dispatch on the result's kind: width sweep, training flow, conformal,
    RP spectrum; else the correlator along the line the points lie on, or,
    when they do not lie on one, plot_comparison (parity and z histogram).
    Returns the Figure."""
    if result.sweep is not None:
        return plot_sweep(result, out=out, **kwargs)[0]
    if getattr(result, "kind", None) == "training":
        return plot_training_flow(result, out=out, **kwargs)
    if result.conformal is not None:
        return plot_conformal(result, out=out, **kwargs)
    if result.reflection is not None:
        return plot_rp_spectrum(result, out=out, **kwargs)
    if not on_a_line(result):
        return plot_comparison(result, out=out, **kwargs)
    return plot_correlator(result, out=out, **kwargs)
