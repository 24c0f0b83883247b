"""Tabular views of results: pandas DataFrames (when pandas is importable),
HTML for notebooks, and short text summaries for ``repr``.

Nothing here computes physics: the columns are the server's values as the
Result holds them.
"""

import html
from typing import Any, List, Sequence

import numpy as np

# Columns of a correlator result, in the order a reader wants them.
RESULT_COLUMNS = ("mean", "stderr", "exact", "z_exact", "gp", "z_gp",
                  "connected", "connected_stderr", "exact_connected",
                  "z_exact_connected", "gp_connected")
SWEEP_COLUMNS = ("mean", "stderr", "exact", "z_exact", "connected",
                 "connected_stderr", "exact_connected", "z_exact_connected",
                 "gp", "deviation", "deviation_background")
HTML_ROWS = 12
# Characters of the spec's label shown in a summary (longer ones are cut).
LABEL_CHARS = 40


def _pandas():
    try:
        import pandas
    except ImportError as err:  # pragma: no cover - pandas is optional
        raise ImportError("to_pandas needs pandas (Debian: python3-pandas)"
                          ) from err
    return pandas


def _tuple_label(t: Sequence[int]) -> str:
    return "(" + ",".join(str(i) for i in t) + ")"


def result_frame(result: Any) -> Any:
    """One row per requested tuple: tuple, order and RESULT_COLUMNS."""
    pd = _pandas()
    data = {"tuple": [tuple(t) for t in result.tuples],
            "order": np.asarray(result.orders, dtype=np.int64)}
    for c in RESULT_COLUMNS:
        data[c] = getattr(result, c)
    data["verdict"] = list(result.verdict)
    return pd.DataFrame(data)


def sweep_frame(sweep: Any) -> Any:
    """Long form: one row per (width, tuple) with SWEEP_COLUMNS."""
    pd = _pandas()
    w, n = len(sweep.widths), len(sweep.tuples)
    data = {"width": np.repeat(sweep.widths, n),
            "tuple": [tuple(t) for t in sweep.tuples] * w,
            "order": np.tile(sweep.orders, w)}
    for c in SWEEP_COLUMNS:
        data[c] = getattr(sweep, c).reshape(-1)
    return pd.DataFrame(data)


def fits_frame(fits: Sequence[Any]) -> Any:
    """One row per power-law fit."""
    pd = _pandas()
    cols = ("order", "exponent", "exponent_stderr", "expected_exponent", "z",
            "amplitude", "chi2_per_dof", "dof", "widths_used")
    data = {"tuple": [tuple(f.tuple) for f in fits]}
    for c in cols:
        data[c] = [getattr(f, c) for f in fits]
    return pd.DataFrame(data)


def training_frame(flow: Any) -> Any:
    """Long form: one row per (time, point) with mu, its error and theory,
    the diagonal of Sigma and the loss."""
    pd = _pandas()
    t, p = flow.mu.shape
    idx = np.arange(p)
    return pd.DataFrame({
        "t": np.repeat(flow.t, p), "point": np.tile(idx, t),
        "mu": flow.mu.reshape(-1), "mu_stderr": flow.mu_stderr.reshape(-1),
        "mu_theory": flow.mu_theory.reshape(-1),
        "sigma": flow.sigma[:, idx, idx].reshape(-1),
        "sigma_stderr": flow.sigma_stderr[:, idx, idx].reshape(-1),
        "sigma_theory": flow.sigma_theory[:, idx, idx].reshape(-1),
        "loss_mean": np.repeat(flow.loss_mean, p)})


def _fmt(v: float) -> str:
    return "%.6g" % v if np.isfinite(v) else "&ndash;"


def result_html(result: Any) -> str:
    """A header line and the first HTML_ROWS rows of the entries."""
    head = "<p><b>nnft.Result</b> %s: %s</p>" % (
        html.escape(result.name), html.escape(summary(result)))
    if result.sweep is not None or result.kind == "training" or \
            not len(result):
        return head
    cols = ("mean", "stderr", "exact", "z_exact", "connected",
            "connected_stderr")
    rows = ["<tr><th>tuple</th>%s</tr>" % "".join(
        "<th>%s</th>" % c for c in cols)]
    for i in range(min(len(result), HTML_ROWS)):
        rows.append("<tr><td>%s</td>%s</tr>" % (
            _tuple_label(result.tuples[i]),
            "".join("<td>%s</td>" % _fmt(getattr(result, c)[i])
                    for c in cols)))
    more = len(result) - HTML_ROWS
    tail = "<p>... %d more (Result.to_pandas() has them all)</p>" % more \
        if more > 0 else ""
    return head + "<table>%s</table>" % "".join(rows) + tail


def _label(result: Any) -> str:
    """The spec's label, quoted, cut to LABEL_CHARS ("" without one)."""
    spec = getattr(result, "spec", None)
    text = " ".join(spec.label.split()) if spec is not None else ""
    if len(text) > LABEL_CHARS:
        text = text[:LABEL_CHARS - 3].rstrip() + "..."
    return '"%s"' % text if text else ""


def summary(result: Any) -> str:
    """The label, networks, entries, and the chi^2 against exact theory if
    known."""
    parts = [p for p in (_label(result), "%d networks" % result.networks)
             if p]
    if result.kind == "training":
        parts.append("training flow at %d times" % len(result.training.t))
    elif result.sweep is not None:
        parts.append(sweep_summary(result.sweep))
    else:
        parts.append("%d entries" % len(result))
        c = result.vs_exact
        if result.has_exact and c.dof:
            parts.append("chi2/dof %.3g vs exact (%d dof, max |z| %.2f)" % (
                c.chi2_per_dof, c.dof, c.max_abs_z))
        warned = [v for v in getattr(result, "verdict", []) if v not in
                  ("", "OK")]
        if warned:
            parts.append("%d untrusted error bars (%s)" % (
                len(warned), ", ".join(sorted(set(warned)))))
    for name in ("conformal", "reflection", "reweight", "effective_coupling"):
        if getattr(result, name) is not None:
            parts.append(name)
    if result.symmetry:
        parts.append("%d symmetry check(s)" % len(result.symmetry))
    if result.cluster:
        parts.append("%d cluster check(s)" % len(result.cluster))
    return ", ".join(parts)


def sweep_summary(sweep: Any) -> str:
    w = ",".join(str(n) for n in sweep.widths)
    return "width sweep N = %s, %d tuples, %s" % (w, len(sweep.tuples),
                                                  fits_summary(sweep.fits))


def fits_summary(fits: Sequence[Any]) -> str:
    """Per order: count, median exponent and the largest |z|."""
    parts: List[str] = []
    for order in sorted({f.order for f in fits}):
        sel = [f for f in fits if f.order == order]
        exps = np.array([f.exponent for f in sel])
        zs = np.array([f.z for f in sel])
        ok = np.isfinite(exps)
        fits_of = "%d fit%s of G%d_c" % (len(sel), "" if len(sel) == 1
                                         else "s", order)
        if not ok.any():
            parts.append("%s (none finite)" % fits_of)
            continue
        parts.append("%s: median exponent %.3f (expected %g),"
                     " max |z| %.2f" % (fits_of,
                                        float(np.median(exps[ok])),
                                        sel[0].expected_exponent,
                                        float(np.nanmax(np.abs(zs)))))
    return "; ".join(parts) or "no fits"


class FitList(list):
    """The fits of a width sweep: a list whose repr is a summary, not one
    line per fit (a sweep over many tuples has hundreds)."""

    def __repr__(self) -> str:
        shown = ", ".join(repr(f) for f in self[:3])
        more = " ... (%d more)" % (len(self) - 3) if len(self) > 3 else ""
        return "<%d fits: %s; %s%s>" % (len(self), fits_summary(self), shown,
                                        more)

    def to_pandas(self) -> Any:
        return fits_frame(self)
