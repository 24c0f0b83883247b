"""Plots of results with matplotlib (Agg canvas; pyplot is never touched).

- ``plot_correlator``: G^(2)(x_ref, x) against |x - x_ref| with error bars,
  beside the server's exact (or infinite-width) values as a curve.
- ``plot_width_sweep``: |G^(n)_c| against the width N on log-log axes with a
  power law |G_c| = A N^p fitted here, by weighted least squares in log space,
  to the values and errors the server returned (no physics recomputed).

- ``plot_conformal``: the null-cone field's g(u, v) from the Monte Carlo
  against its exact value (mu4/3)(1 + 1/u + v/u), one point per quadruple.
- ``plot_rp_spectrum``: the eigenvalues of the reflection-positivity matrix
  with their jackknife errors, the exact ones beside them, and the verdict.
- ``plot_sweep``: a width-sweep job's result (one experiment): |G4_c| and
  |G6_c| against N on log-log axes with the power laws the server fitted.
- ``plot_result``: whichever of the above fits the result's kind.

Each returns the Figure; with ``out`` it also writes a PNG of exactly
- ``plot_training_flow``: mu_t(x_p) and Sigma_t(x_p, x_p) of a training job
  against training time t with error bars, beside the infinite-width NTK
  prediction as curves (two panels).

All return the Figure; with ``out`` they also write a PNG of exactly
figsize * dpi pixels.
"""

import dataclasses

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DEFAULT_FIGSIZE = (6.4, 4.8)
DEFAULT_DPI = 100


@dataclasses.dataclass(frozen=True)
class PowerLawFit:
    """|G| = amplitude * N^exponent, with the exponent's standard error."""
    exponent: float
    exponent_err: float
    amplitude: float
    widths: np.ndarray
    values: np.ndarray
    errors: np.ndarray


def _figure(ax, figsize, dpi):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _save(fig, out):
    if out is not None:
        fig.savefig(out, format="png", dpi=fig.dpi)


def correlator_vs_separation(result, order=2, reference=0, theory="auto"):
    """(separations, mean, stderr, theory, theory_name) of the entries
    G(x_ref, x_ref, .., x_j) of the given order, sorted by separation.

    theory: "exact" (at the spec's width), "gp" (infinite width) or "auto"
    (exact where the server knows it, else infinite width).
    """
    rows = []
    for i, t in enumerate(result.tuples):
        if len(t) != order or reference not in t:
            continue
        rest = list(t)
        rest.remove(reference)
        if any(j != rest[0] for j in rest) or not rest:
            continue
        sep = np.linalg.norm(result.points[rest[0]] - result.points[reference])
        rows.append((sep, i))
    if not rows:
        raise ValueError("no order-%d entries pairing point %d with another"
                         % (order, reference))
    rows.sort()
    idx = np.array([i for _, i in rows])
    if theory not in ("auto", "exact", "gp"):
        raise ValueError("theory %r: must be auto, exact or gp" % theory)
    use_exact = theory == "exact" or (
        theory == "auto" and np.all(np.isfinite(result.exact[idx])))
    values = result.exact[idx] if use_exact else result.gp[idx]
    name = ("exact (N = %s)" % _width(result) if use_exact else
            "infinite width (NNGP)")
    return (np.array([s for s, _ in rows]), result.mean[idx],
            result.stderr[idx], values, name)


def plot_correlator(result, *, order=2, reference=0, theory="auto", ax=None,
                    out=None, figsize=DEFAULT_FIGSIZE, dpi=DEFAULT_DPI):
    """G^(order)(x_ref, .., x) against |x - x_ref|, estimate and theory
    (see correlator_vs_separation for ``theory``)."""
    sep, mean, err, theory, name = correlator_vs_separation(
        result, order, reference, theory)
    fig, ax = _figure(ax, figsize, dpi)
    if np.all(np.isfinite(theory)):
        ax.plot(sep, theory, "-", color="C1", label=name)
    ax.errorbar(sep, mean, yerr=err, fmt="o", color="C0", ms=4, capsize=3,
                label="Monte Carlo (%d networks)" % result.networks)
    ax.set_xlabel("separation |x - x_%d|" % reference)
    ax.set_ylabel("G^(%d)" % order)
    ax.set_title("%s: %s" % (result.name, result.spec.label or
                             _arch_name(result)))
    ax.legend()
    _save(fig, out)
    return fig


def fit_power_law(widths, values, errors):
    """Weighted least squares of log|G| = log A + p log N.

    The error of log|G| is err/|G| (first order). Entries with a zero or
    non-finite value or error are left out; needs at least two widths.
    """
    n, v, e = (np.asarray(a, dtype=float) for a in (widths, values, errors))
    ok = np.isfinite(v) & np.isfinite(e) & (v != 0) & (e > 0) & (n > 0)
    if ok.sum() < 2:
        raise ValueError("a power-law fit needs two widths with a nonzero "
                         "value and a positive error")
    x, y, s = np.log(n[ok]), np.log(np.abs(v[ok])), e[ok] / np.abs(v[ok])
    w = 1.0 / s**2
    design = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    coef = cov @ (design.T @ (w * y))
    return PowerLawFit(exponent=coef[1], exponent_err=np.sqrt(cov[1, 1]),
                       amplitude=np.exp(coef[0]), widths=n, values=v,
                       errors=e)


def sweep_values(results, tup=None, order=4, connected=True):
    """(widths, values, errors, exact, tuple) of one entry over results."""
    if tup is None:
        tup = results[0].tuples[results[0].select(order)[0]]
    key = ("connected", "connected_stderr", "exact_connected") if connected \
        else ("mean", "stderr", "exact")
    widths, vals, errs, exact = [], [], [], []
    for r in results:
        i = r.index(tup)
        widths.append(_width(r))
        vals.append(getattr(r, key[0])[i])
        errs.append(getattr(r, key[1])[i])
        exact.append(getattr(r, key[2])[i])
    order_ = np.argsort(widths)
    arrays = [np.asarray(a, dtype=float)[order_]
              for a in (widths, vals, errs, exact)]
    return (*arrays, tuple(tup))


def plot_width_sweep(results, *, tup=None, order=4, connected=True, ax=None,
                     out=None, figsize=DEFAULT_FIGSIZE, dpi=DEFAULT_DPI):
    """|G_c(tup)| against N on log-log axes with the fitted power law.

    Returns (figure, PowerLawFit).
    """
    n, v, e, exact, tup = sweep_values(results, tup, order, connected)
    fit = fit_power_law(n, v, e)
    fig, ax = _figure(ax, figsize, dpi)
    args = ",".join(map(str, tup))
    label = ("G_c(%s)" if connected else "G(%s)") % args
    ax.errorbar(n, np.abs(v), yerr=e, fmt="o", color="C0", capsize=3,
                label="|%s| Monte Carlo" % label)
    if np.any(np.isfinite(exact)):
        ax.plot(n, np.abs(exact), "s", mfc="none", color="C2",
                label="|%s| exact" % label)
    grid = np.geomspace(n.min(), n.max(), 50)
    ax.plot(grid, fit.amplitude * grid**fit.exponent, "--", color="C1",
            label="fit N^(%.3f +- %.3f)" % (fit.exponent, fit.exponent_err))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(n, labels=["%g" % w for w in n])
    ax.xaxis.set_minor_formatter("")
    ax.set_xlabel("width N")
    ax.set_ylabel("|%s|" % label)
    ax.set_title("width sweep: %d widths, %s" % (len(n), _arch_name(
        results[0]).split(",")[0]))
    ax.legend()
    _save(fig, out)
    return fig, fit


def plot_sweep(result, *, tuples=None, orders=(4, 6), ax=None, out=None,
               figsize=DEFAULT_FIGSIZE, dpi=DEFAULT_DPI):
    """|G_c| against N for a width-sweep result (``result.sweep``), with the
    server's fitted power law A N^s and the exact finite-width values.

    tuples: the tuples to draw (default: for each order in ``orders``, the
    fitted tuple with the most significant nonzero |G_c|; tuples whose G_c
    vanishes at every width are never picked). Raises ValueError when no
    tuple has anything to draw. Returns (figure, [PowerLawFit drawn]).
    """
    sweep = result.sweep
    if sweep is None:
        raise ValueError("%s is not a width-sweep result" % result.name)
    if tuples is None:
        tuples = [t for t in (_most_significant_fit(sweep, n)
                              for n in orders) if t is not None]
    if not tuples:
        raise ValueError(
            "%s: no tuple of order %s has a nonzero connected correlator "
            "at two widths (nothing to draw on a log scale); pass tuples=" %
            (result.name, "/".join(map(str, orders))))
    fig, ax = _figure(ax, figsize, dpi)
    n = sweep.widths.astype(float)
    grid = np.geomspace(n.min(), n.max(), 50)
    drawn = []
    for c, tup in enumerate(tuples):
        i, fit = sweep.index(tup), sweep.fit(tup)
        label = "G%d_c(%s)" % (fit.order, ",".join(map(str, tup)))
        color = "C%d" % c
        ax.errorbar(n, np.abs(sweep.connected[:, i]),
                    yerr=sweep.connected_stderr[:, i], fmt="o", color=color,
                    capsize=3, label="|%s| Monte Carlo" % label)
        exact = sweep.exact_connected[:, i]
        if np.any(np.isfinite(exact)):
            ax.plot(n, np.abs(exact), "s", mfc="none", color=color, ms=9,
                    label="|%s| exact" % label)
        if np.isfinite(fit.exponent):
            ax.plot(grid, fit.amplitude * grid**fit.exponent, "--",
                    color=color, label="fit N^(%.3f +- %.3f), expected %g" % (
                        fit.exponent, fit.exponent_stderr,
                        fit.expected_exponent))
        drawn.append(fit)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(n, labels=["%g" % w for w in n])
    ax.xaxis.set_minor_formatter("")
    ax.set_xlabel("width N")
    ax.set_ylabel("|G_c|")
    ax.set_title("width sweep %s: %d widths" % (result.name, len(n)))
    ax.legend(fontsize="small")
    _save(fig, out)
    return fig, drawn


def _most_significant_fit(sweep, order):
    """The fitted tuple of ``order`` whose |G_c| is largest against its error
    (summed over widths), or None when no tuple of that order has a nonzero
    G_c at two widths or more: a tuple whose G_c vanishes identically (e.g.
    a point at x = 0 of an odd net without biases) would draw an empty log
    plot."""
    best, best_score = None, 0.0
    for f in sweep.fits:
        if f.order != order:
            continue
        i = sweep.index(f.tuple)
        v, e = np.abs(sweep.connected[:, i]), sweep.connected_stderr[:, i]
        ok = np.isfinite(v) & np.isfinite(e) & (v > 0)
        if ok.sum() < 2:
            continue
        score = float(np.sum(v[ok] / np.where(e[ok] > 0, e[ok], np.inf)))
        if best is None or score > best_score:
            best, best_score = f.tuple, score
    return best


def _width(result):
    arch = result.spec.architecture
    kind = arch.WhichOneof("kind")
    if kind == "mlp":
        return arch.mlp.widths[0] if arch.mlp.widths else 0
    if kind in ("gauss_net", "cos_net", "kan"):
        return getattr(arch, kind).width
    if kind == "conv1d":
        return arch.conv1d.channels
    if kind == "attention":
        return arch.attention.heads
    return 0


def _arch_name(result):
    kind = result.spec.architecture.WhichOneof("kind") or "?"
    return "%s, N = %d" % (kind, _width(result))


def plot_conformal(result, *, ax=None, out=None, figsize=DEFAULT_FIGSIZE,
                   dpi=DEFAULT_DPI):
    """g(u, v) = G4 / (X12 X34) of a null-cone result: Monte Carlo with
    error bars against the exact value, and the line y = x."""
    if result.conformal is None:
        raise ValueError("%s has no conformal result (not a null-cone field)"
                         % result.name)
    a = result.conformal_arrays()
    fig, ax = _figure(ax, figsize, dpi)
    if len(a["g"]):
        lo = float(np.nanmin(a["g_exact"]))
        hi = float(np.nanmax(a["g_exact"]))
        ax.plot([lo, hi], [lo, hi], "-", color="0.6", lw=1,
                label="exact (mu4/3)(1 + 1/u + v/u)")
        ax.errorbar(a["g_exact"], a["g"], yerr=a["g_stderr"], fmt="o",
                    ms=3, capsize=2, label="Monte Carlo")
    c = result.conformal
    ax.set_xlabel("exact g(u, v)")
    ax.set_ylabel("g(u, v) from the estimated mu4")
    ax.set_title("null-cone field, D = %d: mu4 = %.4g +- %.2g (exact %.4g)"
                 % (c.dimension, c.mu4.value, c.mu4.stderr, c.mu4.exact),
                 fontsize=9)
    ax.legend(fontsize=8)
    _save(fig, out)
    return fig


def plot_rp_spectrum(result, *, ax=None, out=None, figsize=DEFAULT_FIGSIZE,
                     dpi=DEFAULT_DPI, four_point=False):
    """Eigenvalues (ascending) of <phi(theta x_i) phi(x_j)> (or of the
    four-point matrix) with jackknife errors, exact values, and the verdict;
    symmetric-log axis so negative eigenvalues show."""
    if result.reflection is None:
        raise ValueError("%s has no reflection-positivity result"
                         % result.name)
    rp = result.reflection
    m = rp.four_point if four_point else rp.two_point
    fig, ax = _figure(ax, figsize, dpi)
    k = np.arange(len(m.eigenvalues))
    ax.axhline(0.0, color="0.6", lw=1)
    ax.errorbar(k, list(m.eigenvalues), yerr=list(m.eigenvalue_stderr),
                fmt="o", capsize=3, label="Monte Carlo")
    if m.has_exact:
        ax.plot(k, list(m.exact_eigenvalues), "x", color="C3", ms=8,
                label="exact")
    values = np.abs(np.array(list(m.eigenvalues), dtype=float))
    small = values[values > 0].min() if np.any(values > 0) else 1.0
    ax.set_yscale("symlog", linthresh=max(small, 1e-12))
    ax.set_xlabel("eigenvalue index (ascending)")
    ax.set_ylabel("eigenvalue")
    ax.set_title("reflection positivity: %s (z = %.2f, P(<0) = %.3g)"
                 % (m.verdict, m.z, m.p_negative), fontsize=9)
    ax.legend(fontsize=8)
    _save(fig, out)
    return fig


def plot_result(result, *, out=None, **kwargs):
    """Dispatch on the result's kind: conformal, RP spectrum, training flow,
    else G2."""
    if getattr(result, "kind", None) == "training":
        return plot_training_flow(result, out=out, **kwargs)
    if result.conformal is not None:
        return plot_conformal(result, out=out, **kwargs)
    if result.reflection is not None:
        return plot_rp_spectrum(result, out=out, **kwargs)
    return plot_correlator(result, out=out, **kwargs)


def _plot_loss(ax, flow):
    """Mean loss with errors; the histogram's quantile bands when present."""
    t = flow.t
    ax.errorbar(t, flow.loss_mean, yerr=flow.loss_stderr, fmt="o", ms=3,
                color="k", label="mean")
    q = flow.loss_quantiles
    if q is not None and np.isfinite(q[:, 2]).any():
        ax.fill_between(t, q[:, 0], q[:, 4], color="C0", alpha=0.2, lw=0,
                        label="5-95 %")
        ax.fill_between(t, q[:, 1], q[:, 3], color="C0", alpha=0.35, lw=0,
                        label="25-75 %")
        ax.plot(t, q[:, 2], "-", color="C0", lw=1, label="median")
    if np.all(flow.loss_mean > 0):
        ax.set_yscale("log")
    ax.set_xlim(0, max(float(t.max()) * 1.5, 1.0))
    ax.legend(fontsize=7)


def plot_training_flow(result, points=None, out=None,
                       figsize=DEFAULT_FIGSIZE, dpi=DEFAULT_DPI):
    """Three panels over training time t (symlog axis, t = 0 included):
    mu_t(x_p) and Sigma_t(x_p, x_p) for the points ``points`` (default: the
    first three), Monte Carlo with standard errors and the server's theory;
    and the loss: its mean with errors and, with a loss histogram, the bands
    of its 5-95 % and 25-75 % quantiles over the ensemble and the median.
    """
    flow = result.training
    if flow is None:
        raise ValueError("result %s is not a training job" % result.name)
    p_all = flow.mu.shape[1]
    points = list(range(min(3, p_all))) if points is None else list(points)
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax_mu, ax_sig = fig.add_subplot(1, 3, 1), fig.add_subplot(1, 3, 2)
    ax_loss = fig.add_subplot(1, 3, 3)
    t = flow.t
    positive = t[t > 0]
    linthresh = float(positive.min()) if positive.size else 1.0
    for k, p in enumerate(points):
        color = "C%d" % k
        ax_mu.errorbar(t, flow.mu[:, p], yerr=flow.mu_stderr[:, p], fmt="o",
                       ms=3, color=color, label="x%d MC" % p)
        ax_mu.plot(t, flow.mu_theory[:, p], "-", color=color, lw=1,
                   label="x%d NTK" % p)
        ax_sig.errorbar(t, flow.sigma[:, p, p], yerr=flow.sigma_stderr[:, p, p],
                        fmt="o", ms=3, color=color)
        ax_sig.plot(t, flow.sigma_theory[:, p, p], "-", color=color, lw=1)
    _plot_loss(ax_loss, flow)
    for ax, name in ((ax_mu, "mu_t(x)"), (ax_sig, "Sigma_t(x, x)"),
                     (ax_loss, "loss L_t")):
        ax.set_xscale("symlog", linthresh=linthresh)
        ax.set_xlabel("training time t")
        ax.set_title(name)
    ax_mu.legend(fontsize=7)
    fig.suptitle("training flow, %d networks (points: MC, lines: theory)"
                 % result.networks, fontsize=9)
    fig.tight_layout()
    _save(fig, out)
    return fig
