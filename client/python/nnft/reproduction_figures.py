"""Figures of the reproduced studies (see nnft.reproduction): one PNG per
study, drawn with matplotlib's object API (no pyplot state), from the
values the server returned. ``draw`` dispatches on ``figure.kind``."""

import math
import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100


def draw(study, results, out):
    """Draws study["figure"] from ``results`` (run name -> Result) to the
    PNG file ``out``."""
    spec = study["figure"]
    kinds = {"deviation_sweep": _deviation_sweep,
             "coupling_running": _coupling_running,
             "conformal_g": _conformal_g, "propagator": _propagator,
             "symmetry": _symmetry}
    if spec["kind"] not in kinds:
        raise ValueError("unknown figure kind %r" % spec["kind"])
    fig = kinds[spec["kind"]](spec, results)
    fig.suptitle(textwrap.fill("%s (arXiv %s)" % (
        study["title"], study.get("arxiv", "")), 90), fontsize=9)
    fig.savefig(out, format="png", dpi=DPI)
    return out


def _figure(panels=1):
    fig = Figure(figsize=(6.4 if panels == 1 else 10.0, 4.6), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, panels, k + 1) for k in range(panels)]
    fig.subplots_adjust(top=0.86, bottom=0.13, wspace=0.3)
    return fig, axes


def _deviation_sweep(spec, results):
    """m_4 (and m_6 where requested) against N, log-log, with the exact
    finite-width line (the published 1/N falloff)."""
    fig, (ax,) = _figure()
    colours = ("tab:blue", "tab:red", "tab:green", "tab:purple")
    for k, name in enumerate(spec["runs"]):
        sw = results[name].sweep
        i = sw.index(spec["tuple"])
        n = sw.widths.astype(float)
        m, bg = sw.deviation[:, i], sw.deviation_background[:, i]
        exact = np.abs(sw.exact[:, i] - sw.gp[:, i]) / np.abs(sw.gp[:, i])
        c = colours[k % len(colours)]
        keep = m > 0
        ax.errorbar(n[keep], m[keep], yerr=bg[keep], fmt="o", ms=4, color=c,
                    capsize=2, label="%s: nnft" % name)
        ax.plot(n, exact, "-", color=c, lw=1, alpha=0.7,
                label="%s: (sw1^4/N)(3 M4 - sum CC) / G4_GP" % name)
        ax.plot(n, bg, ":", color=c, lw=1, alpha=0.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width N")
    ax.set_ylabel("m_4 = |G4 - G4_GP| / G4_GP  (dotted: background)")
    ax.set_title("tuple %s; published: m_4 ~ 1/N" % (tuple(spec["tuple"]),),
                 fontsize=9)
    ax.legend(fontsize=6, loc="lower left")
    return fig


def _coupling_running(spec, results):
    ec = results[spec["run"]].effective_coupling
    fig, (ax,) = _figure()
    lam, err = np.abs(ec.lam), ec.lam_stderr
    ax.errorbar(ec.cutoffs, lam, yerr=err, fmt="o", ms=4, capsize=2,
                label="nnft |lambda(Lambda)|, slope %.4f +- %.2g" % (
                    ec.slope, ec.slope_stderr))
    ref = lam[0] * (ec.cutoffs / ec.cutoffs[0]) ** -5.0
    ax.plot(ec.cutoffs, ref, "--", color="gray",
            label="published: Lambda^-(d+4) = Lambda^-5")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("cutoff Lambda")
    ax.set_ylabel("|lambda|")
    ax.legend(fontsize=7)
    return fig


def _conformal_g(spec, results):
    arrays = results[spec["run"]].conformal_arrays()
    order = np.argsort(arrays["g_exact"])
    fig, (ax,) = _figure()
    x = np.arange(len(order))
    ax.plot(x, arrays["g_exact"][order], "s", mfc="none", color="gray",
            label="published (mu4/3)(1 + 1/u + v/u), mu4 = 1/16")
    ax.errorbar(x, arrays["g"][order], yerr=arrays["g_stderr"][order],
                fmt="o", ms=3, capsize=2, label="nnft g(u, v)")
    ax.set_xticks(x)
    ax.set_xticklabels(["%.2f\n%.2f" % (arrays["u"][j], arrays["v"][j])
                        for j in order], fontsize=5)
    ax.set_xlabel("quadruples of points, labelled u over v")
    ax.set_ylabel("g(u, v) = G4 / (X12.X34)")
    ax.legend(fontsize=7)
    return fig


def _propagator(spec, results):
    free, phi4 = results[spec["free_run"]], results[spec["phi4_run"]]
    fig, (a1, a2) = _figure(2)
    idx = [i for i in free.select(2) if 0 in free.tuples[i]]
    r = [abs(free.points[max(free.tuples[i])][0] - free.points[0][0])
         for i in idx]
    a1.plot(r, free.exact[idx], "s-", mfc="none", color="gray",
            label="published G2(p) = 1/(p^2+m^2), |p| < Lambda")
    a1.errorbar(r, free.mean[idx], yerr=free.stderr[idx], fmt="o", ms=4,
                capsize=2, label="nnft G2(0, r)")
    a1.set_xlabel("r")
    a1.set_ylabel("G2(0, r)")
    a1.set_title("free cos-net, d = 1, m = 1, Lambda = 10", fontsize=8)
    a1.legend(fontsize=7)
    two = list(phi4.select(2))
    x = np.arange(len(two))
    a2.plot(x, phi4.first_order_shift[two], "s", mfc="none", color="gray",
            label="first order: -(lambda/2) G(0) int G G")
    a2.errorbar(x, phi4.shift[two], yerr=phi4.shift_stderr[two], fmt="o",
                ms=4, capsize=2, label="nnft reweighted - free")
    a2.set_xticks(x)
    a2.set_xticklabels([str(phi4.tuples[i]) for i in two], fontsize=7)
    lam = phi4.reweight.lam if phi4.reweight else math.nan
    a2.set_title("phi^4 shift of G2, lambda = %g" % lam, fontsize=8)
    a2.set_ylabel("delta G2")
    a2.legend(fontsize=7)
    return fig


def _symmetry(spec, results):
    fig, (ax,) = _figure()
    threshold = None
    for k, name in enumerate(spec["runs"]):
        check = [s for s in results[name].symmetry
                 if s.label == spec["label"]][0]
        z = check.z[np.isfinite(check.z)]
        ax.plot(np.arange(len(z)), z, ".", ms=3,
                label="%s: %s (max|z| %.3g)" % (
                    name, "invariant" if check.consistent else "BROKEN",
                    check.max_abs_z))
        threshold = check.z_threshold
    if threshold is not None:
        for s in (-1, 1):
            ax.axhline(s * threshold, color="gray", ls="--", lw=1)
    ax.set_xlabel("correlator (tuple of output-index slots)")
    ax.set_ylabel("z of G(R phi) - G(phi)")
    ax.set_title("%s; dashed: Bonferroni threshold (1%% family-wise)"
                 % spec["label"], fontsize=8)
    ax.legend(fontsize=7)
    return fig
