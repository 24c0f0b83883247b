"""Kernel heat maps of nnft.plot: a P x P kernel, and the NNGP kernel beside
the estimated G^(2) and their z-scores."""

import numpy as np

from nnft import _plot_base as base
from nnft._plot_base import DEFAULT_DPI, DEFAULT_FIGSIZE


def _kernel_axes(points):
    """(cell edges, x label, y label): coordinates when the points are
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
