"""The training-flow plot of nnft.plot: mu_t(x), Sigma_t(x, x) and the loss
against training time t."""

import numpy as np
from matplotlib.ticker import FixedLocator, NullLocator

from nnft import _plot_base as base


def _time_axis(ax, t):
    """Symmetric-log time axis that shows t = 0 and spans decades: linear
    below the smallest recorded t > 0, ticks at 0 and at whole decades at or
    above it only (the linear part is half a decade wide, so 0 and the
    first decade never collide), plain tick text."""
    positive = t[t > 0]
    linthresh = float(positive.min()) if positive.size else 1.0
    top = max(float(t.max()) if len(t) else 1.0, linthresh)
    ax.set_xscale("symlog", linthresh=linthresh, linscale=0.5)
    decades = 10.0**np.arange(np.ceil(np.log10(linthresh) - 1e-9),
                              np.floor(np.log10(top) + 1e-9) + 1)
    ticks = [0.0] + (decades.tolist() if decades.size else [linthresh, top])
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(base.PLAIN_FORMATTER)
    # A little room left of t = 0, so that its markers are whole.
    ax.set_xlim(-0.15 * linthresh, top * 1.3)
    ax.set_xlabel(r"training time $t$")


def _plot_loss(ax, flow):
    """Mean loss with errors; the histogram's quantile bands when present
    (the server interpolates each quantile log-linearly inside its bin, so
    the band is not stepped at the bin edges; between recorded times it is
    drawn straight)."""
    t = flow.t
    ax.errorbar(t, flow.loss_mean, yerr=flow.loss_stderr, fmt="o", ms=3,
                color="k", label="mean", zorder=3)
    q = flow.loss_quantiles
    if q is not None and np.isfinite(q[:, 2]).any():
        ax.fill_between(t, q[:, 0], q[:, 4], color="C0", alpha=0.18, lw=0,
                        label="5-95 %")
        ax.fill_between(t, q[:, 1], q[:, 3], color="C0", alpha=0.35, lw=0,
                        label="25-75 %")
        ax.plot(t, q[:, 2], "-", color="C0", lw=1, label="median")
    if np.all(flow.loss_mean > 0):
        ax.set_yscale("log")
    ax.set_ylabel(r"loss $\mathcal{L}_t$")
    ax.legend(fontsize=7)


def plot_training_flow(result, points=None, out=None,
                       figsize=base.DEFAULT_FIGSIZE, dpi=base.DEFAULT_DPI):
    """The training flow of a training job over time t (symmetric-log axis,
    t = 0 included): top left mu_t(x_p), top right Sigma_t(x_p, x_p), for the
    points ``points`` (default: the first three), Monte Carlo with standard
    errors (filled circles) and the infinite-width NTK
    theory; below, the loss: its mean with errors and, with a loss
    histogram, the bands of its 5-95 % and 25-75 % quantiles over the
    ensemble and the median.

    The result carries the theory only at the recorded times
    (spec training.times), so it is drawn as open diamonds at those times,
    not as a curve: a line between them would be an interpolation the
    server never computed. Record more times for a denser theory.
    """
    flow = result.training
    if flow is None:
        raise ValueError("result %s is not a training job" % result.name)
    p_all = flow.mu.shape[1]
    points = list(range(min(3, p_all))) if points is None else list(points)
    fig = base.new_figure(figsize, dpi)
    grid = fig.add_gridspec(2, 2, height_ratios=(1, 1))
    ax_mu, ax_sig = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    ax_loss = fig.add_subplot(grid[1, :])
    t = flow.t
    for k, p in enumerate(points):
        color = "C%d" % k
        ax_mu.errorbar(t, flow.mu[:, p], yerr=flow.mu_stderr[:, p], fmt="o",
                       ms=3, color=color, label=r"$x_{%d}$" % p)
        ax_mu.plot(t, flow.mu_theory[:, p], "D", mfc="none", ms=6,
                   color=color)
        ax_sig.errorbar(t, flow.sigma[:, p, p],
                        yerr=flow.sigma_stderr[:, p, p], fmt="o", ms=3,
                        color=color)
        ax_sig.plot(t, flow.sigma_theory[:, p, p], "D", mfc="none", ms=6,
                    color=color)
    # Legend entries for the two symbols (colour keys the point).
    ax_sig.plot([], [], "o", color="0.3", ms=3, label="Monte Carlo")
    ax_sig.plot([], [], "D", mfc="none", color="0.3", ms=6,
                label="NTK theory")
    _plot_loss(ax_loss, flow)
    ax_mu.set_ylabel(r"$\mu_t(x) = \langle f_t(x) \rangle$")
    ax_sig.set_ylabel(r"$\Sigma_t(x, x)$")
    for ax in (ax_mu, ax_sig, ax_loss):
        _time_axis(ax, t)
    ax_mu.legend(fontsize=7, title="point", title_fontsize=7)
    ax_sig.legend(fontsize=7)
    name = result.spec.label.strip() or \
        base.architecture_summary(result.spec)
    fig.suptitle(base.wrap_title("training flow, %d networks: %s" % (
        result.networks, name)), fontsize=10)
    fig.tight_layout()
    base.save(fig, out)
    return fig
