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
import warnings

import numpy as np
from matplotlib.ticker import NullFormatter, SymmetricalLogLocator

from nnft import _plot_base as base
from nnft import errors
from nnft._plot_base import DEFAULT_DPI, DEFAULT_FIGSIZE
from nnft._plot_compare import (pick_theory, plot_comparison, plot_parity,
                                plot_z_histogram)
from nnft._plot_kernel import plot_kernel, plot_kernel_comparison
from nnft._plot_sweep import (PowerLawFit, fit_power_law, plot_sweep,
                              plot_width_sweep, sweep_values)
from nnft._plot_training import plot_training_flow

# Points of the fine theory curve of plot_correlator (ComputeKernel).
FINE_POINTS = 200

__all__ = [
    "DEFAULT_DPI", "DEFAULT_FIGSIZE", "FINE_POINTS", "PowerLawFit",
    "correlator_vs_separation", "fit_power_law", "on_a_line",
    "plot_comparison", "plot_conformal", "plot_correlator", "plot_kernel",
    "plot_kernel_comparison", "plot_parity", "plot_result",
    "plot_rp_spectrum", "plot_sweep", "plot_training_flow",
    "plot_width_sweep", "plot_z_histogram", "sweep_values",
]


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
    if str(theory).strip().lower() not in ("auto", "exact", "gp"):
        raise ValueError("theory %r: must be auto, exact or gp (any case)"
                         % (theory,))
    theory = str(theory).strip().lower()
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
    try:
        kernel = client.kernel(fine)
    except errors.NnftError as err:
        warnings.warn("plot_correlator: no fine theory curve (ComputeKernel: "
                      "%s); theory drawn at the points" % err)
        return None
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
    ComputeKernel; without one (or for a spec with analyses, or when
    ComputeKernel refuses, with a warning) the result carries theory only at
    its points, drawn as open markers there.

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
    which, values, _, name = pick_theory(result, theory, connected)
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


# -- analyses -----------------------------------------------------------------

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
