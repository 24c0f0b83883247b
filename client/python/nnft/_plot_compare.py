"""Comparisons of the Monte Carlo with theory in nnft.plot, for any point
set: the parity plot, the z-score histogram, the two side by side."""

import math

import numpy as np

from nnft import _plot_base as base
from nnft._plot_base import DEFAULT_DPI, DEFAULT_FIGSIZE


def pick_theory(result, theory, connected):
    """("exact" or "gp", values, z, legend name) for the entries."""
    if str(theory).strip().lower() not in ("auto", "exact", "gp"):
        raise ValueError("theory %r: must be auto, exact or gp (any case)"
                         % (theory,))
    theory = str(theory).strip().lower()
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
    which, values, z, name = pick_theory(result, theory, connected)
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
    which, _, z, name = pick_theory(result, theory, connected)
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
    # Headroom above the bars and the curve for the notes and the legend.
    heights = [p.get_height() for p in ax.patches]
    ax.set_ylim(0, 1.35 * max(heights + [float(_normal_pdf(0.0))]))
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
