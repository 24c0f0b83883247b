"""Width-sweep plots of nnft.plot: |G^(n)_c| against the width N on log-log
axes with a power law and the exact values, over a residual panel in
standard errors."""

import dataclasses

import numpy as np
from matplotlib.ticker import NullLocator

from nnft import _plot_base as base


@dataclasses.dataclass(frozen=True)
class PowerLawFit:
    """|G| = amplitude * N^exponent, with the exponent's standard error and
    the fit's chi^2 over dof = (widths used - 2)."""
    exponent: float
    exponent_err: float
    amplitude: float
    widths: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    chi2: float = float("nan")
    dof: int = 0

    @property
    def chi2_per_dof(self):
        return self.chi2 / self.dof if self.dof > 0 else float("nan")


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
    chi2 = float(np.sum(w * (y - design @ coef)**2))
    return PowerLawFit(exponent=coef[1], exponent_err=np.sqrt(cov[1, 1]),
                       amplitude=np.exp(coef[0]), widths=n, values=v,
                       errors=e, chi2=chi2, dof=int(ok.sum()) - 2)


def sweep_values(results, tup=None, order=4, connected=True):
    """(widths, values, errors, exact, tuple) of one entry over results."""
    if tup is None:
        tup = results[0].tuples[results[0].select(order)[0]]
    key = ("connected", "connected_stderr", "exact_connected") if connected \
        else ("mean", "stderr", "exact")
    widths, vals, errs, exact = [], [], [], []
    for r in results:
        i = r.index(tup)
        widths.append(base.width_of(r.spec))
        vals.append(getattr(r, key[0])[i])
        errs.append(getattr(r, key[1])[i])
        exact.append(getattr(r, key[2])[i])
    order_ = np.argsort(widths)
    arrays = [np.asarray(a, dtype=float)[order_]
              for a in (widths, vals, errs, exact)]
    return (*arrays, tuple(tup))


def _axes(ax, residuals, figsize, dpi):
    """(figure, main axes, residual axes or None)."""
    if ax is not None:
        return ax.figure, ax, None
    fig = base.new_figure(figsize, dpi)
    if not residuals:
        return fig, fig.add_subplot(1, 1, 1), None
    grid = fig.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.06)
    main = fig.add_subplot(grid[0])
    return fig, main, fig.add_subplot(grid[1], sharex=main)


def _width_axis(ax, n, label=True):
    ax.set_xscale("log")
    ax.set_xticks(n, labels=["%g" % w for w in n] if label else [])
    ax.xaxis.set_minor_formatter("")
    ax.xaxis.set_minor_locator(NullLocator())
    if label:
        ax.set_xlabel(r"width $N$")


def _residual_panel(ax, n, series):
    """series: (values, errors, reference, color, label) per curve; draws
    (value - reference) / error with +-1 and +-2 bands."""
    ax.axhspan(-2, 2, color="0.93", lw=0)
    ax.axhspan(-1, 1, color="0.85", lw=0)
    ax.axhline(0, color="0.4", lw=0.8)
    widest = 2.5
    for v, e, ref, color, _ in series:
        z = (v - ref) / e
        ok = np.isfinite(z)
        if ok.any():
            ax.plot(n[ok], z[ok], "o", color=color, ms=4)
            widest = max(widest, float(np.max(np.abs(z[ok]))) * 1.15)
    ax.set_ylim(-widest, widest)
    ax.set_ylabel(series[0][4] if series else r"$\Delta/\sigma$")


def _fit_label(exponent, err, chi2_per_dof, expected=None):
    text = r"fit $N^{%.3f \pm %.3f}$" % (exponent, err)
    if np.isfinite(chi2_per_dof):
        text += r", $\chi^2/\mathrm{dof} = %.2g$" % chi2_per_dof
    if expected is not None:
        text += r" (theory $N^{%g}$)" % expected
    return text


def _draw_series(ax, n, v, e, exact, fit_line, color, symbol, fit_label):
    """|MC| with errors, |exact| as open squares, the fitted power law (one
    legend entry per series: the estimate, named with its fit)."""
    ax.errorbar(n, np.abs(v), yerr=e, fmt="o", color=color, ms=5, capsize=3,
                label=r"$|%s|$: %s" % (symbol, fit_label))
    if np.any(np.isfinite(exact)):
        ax.plot(n, np.abs(exact), "s", mfc="none", color=color, ms=9)
    if fit_line is not None:
        grid = np.geomspace(n.min(), n.max(), 50)
        ax.plot(grid, fit_line(grid), "--", color=color, lw=1.2)


def _legend(ax, any_exact):
    """The series, then one key for the symbols shared by all."""
    ax.plot([], [], "--", color="0.4", lw=1.2, label="power-law fit")
    if any_exact:
        ax.plot([], [], "s", mfc="none", color="0.4", ms=9,
                label="exact finite-width value")
    ax.legend(fontsize="x-small", loc="best")


def _residual_series(n, v, e, exact, fit_value, color):
    """Residuals against exact values where all are known, else against
    the fit (of |G|, sign taken from the estimate)."""
    if np.all(np.isfinite(exact)):
        return (v, e, exact, color,
                r"$(G_c - G_c^{\mathrm{exact}})/\sigma$")
    ref = np.sign(v) * fit_value(n) if fit_value is not None else \
        np.full_like(v, np.nan)
    return (v, e, ref, color, r"$(G_c - \mathrm{fit})/\sigma$")


def plot_width_sweep(results, *, tup=None, order=4, connected=True, ax=None,
                     out=None, residuals=True,
                     figsize=base.DEFAULT_FIGSIZE, dpi=base.DEFAULT_DPI):
    """|G_c(tup)| of separate results (one per width) against N on log-log
    axes with a power law fitted here (weighted least squares in log space,
    with its chi^2/dof), the exact values as open squares, and below (unless
    ``ax`` is given or residuals=False) the residuals in standard errors
    against the exact values (else against the fit).

    Returns (figure, PowerLawFit).
    """
    n, v, e, exact, tup = sweep_values(results, tup, order, connected)
    fit = fit_power_law(n, v, e)
    fig, main, res = _axes(ax, residuals, figsize, dpi)
    symbol = r"%s(%s)" % (base.correlator_symbol(len(tup), connected),
                          base.tuple_text(tup))

    def line(x):
        return fit.amplitude * x**fit.exponent

    _draw_series(main, n, v, e, exact, line, "C0", symbol,
                 _fit_label(fit.exponent, fit.exponent_err,
                            fit.chi2_per_dof))
    main.set_yscale("log")
    main.set_ylabel(r"$|%s|$" % symbol)
    main.set_title(base.sweep_title(results[0].spec, n), fontsize=10)
    _legend(main, np.any(np.isfinite(exact)))
    _width_axis(main, n, label=res is None)
    if res is not None:
        _residual_panel(res, n, [_residual_series(n, v, e, exact, line,
                                                  "C0")])
        _width_axis(res, n)
    base.save(fig, out)
    return fig, fit


def plot_sweep(result, *, tuples=None, orders=(4, 6), ax=None, out=None,
               residuals=True, figsize=base.DEFAULT_FIGSIZE,
               dpi=base.DEFAULT_DPI):
    """|G_c| against N for a width-sweep result (``result.sweep``), with the
    server's fitted power law A N^s (exponent, error and chi^2/dof in the
    legend), the exact finite-width values as open squares, and below
    (unless ``ax`` is given or residuals=False) the residuals in standard
    errors, (G_c - G_c^exact)/sigma where exact values are known, else
    against the fit.

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
    fig, main, res = _axes(ax, residuals, figsize, dpi)
    n = sweep.widths.astype(float)
    drawn, series = [], []
    for c, tup in enumerate(tuples):
        i, fit = sweep.index(tup), sweep.fit(tup)
        symbol = r"%s(%s)" % (base.correlator_symbol(fit.order, True),
                              base.tuple_text(tup))
        color = "C%d" % c
        v, e = sweep.connected[:, i], sweep.connected_stderr[:, i]
        exact = sweep.exact_connected[:, i]
        line = None
        if np.isfinite(fit.exponent):
            def line(x, fit=fit):
                return fit.amplitude * x**fit.exponent
        _draw_series(main, n, v, e, exact, line, color, symbol,
                     _fit_label(fit.exponent, fit.exponent_stderr,
                                fit.chi2_per_dof, fit.expected_exponent))
        series.append(_residual_series(n, v, e, exact, line, color))
        drawn.append(fit)
    main.set_yscale("log")
    main.set_ylabel(r"$|G^{(n)}_c|$")
    main.set_title(base.sweep_title(result.spec, n), fontsize=10)
    _legend(main, any(np.isfinite(sweep.exact_connected[:, sweep.index(t)])
                      .any() for t in tuples))
    _width_axis(main, n, label=res is None)
    if res is not None:
        _residual_panel(res, n, series)
        _width_axis(res, n)
    base.save(fig, out)
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
