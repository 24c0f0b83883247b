"""The papers, reproduced: nnft.reproduce(NAME), nnft.reproduce_list().

Each study is one JSON file in ``deploy/reproduce/`` (the C++ CLI's
``nnft reproduce`` reads the same files; their format is described in
``deploy/reproduce/README.md``): the experiment specs to run, the quantities
to read off their results, each quantity's published value with its source,
and the comparison rule. ``reproduce`` submits the specs to a server, prints
the table

    quantity | published | nnft +- err | z or difference | agrees

and saves a PNG figure (matplotlib) and a CSV of the table in ``out_dir``.

Published values come in three forms: a number (``"value"``), a verdict
(``"verdict"``: "invariant" or "broken") or a formula of the paper evaluated
by the server's exact theory (``"theory"``: "exact" for the exact column,
"first_order" for the phi^4 first-order shift); the source says which
equation or statement. The numbers are the server's; this module only
selects, compares and draws them.

    import nnft
    with nnft.Client("127.0.0.1:50051") as client:
        rep = nnft.reproduce("relu-running", client=client, out_dir="out")
    print(rep.ok, rep.figure)
"""

import copy
import csv
import dataclasses
import glob
import json
import math
import os
import sys
from typing import Any, Dict, List, Optional

from nnft import errors

ENV_DIR = "NNFT_REPRODUCE_DIR"
_HERE = os.path.dirname(os.path.abspath(__file__))


def study_dir() -> str:
    """Where the study JSON files are: $NNFT_REPRODUCE_DIR, else
    ``deploy/reproduce`` of the source tree the package sits in (client/python
    or build/python)."""
    env = os.environ.get(ENV_DIR)
    if env:
        return env
    cand = os.path.join(_HERE, "..", "..", "..", "deploy", "reproduce")
    if glob.glob(os.path.join(cand, "*.json")):
        return os.path.normpath(cand)
    raise errors.InvalidSpec(
        "no reproduction studies found: set $%s to deploy/reproduce" % ENV_DIR)


@dataclasses.dataclass(frozen=True)
class StudyInfo:
    """One study as ``reproduce_list`` names it."""
    id: str
    title: str
    arxiv: str
    path: str


def reproduce_list(directory: Optional[str] = None) -> List[StudyInfo]:
    """The studies, sorted by id."""
    directory = directory or study_dir()
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        d = _read_json(path)
        out.append(StudyInfo(d["id"], d["title"], d.get("arxiv", ""), path))
    return sorted(out, key=lambda s: s.id)


def load_study(name: str, directory: Optional[str] = None) -> Dict[str, Any]:
    """The study ``name`` (its id) with every run's spec resolved to a dict
    (``spec_file`` read relative to the study file, ``label`` applied)."""
    studies = reproduce_list(directory)
    for s in studies:
        if s.id == name:
            study = _read_json(s.path)
            for run in study["runs"]:
                run["spec"] = _run_spec(run, os.path.dirname(s.path))
            return study
    raise errors.InvalidSpec("reproduce: unknown study %r (known: %s)" % (
        name, ", ".join(s.id for s in studies)))


@dataclasses.dataclass
class Row:
    """One line of the comparison table."""
    label: str
    published: Any            # float, or "invariant"/"broken"
    value: float              # nnft's value
    err: float                # its standard error (NaN when none)
    z: float                  # (value - published) / err; NaN for verdicts
    difference: float         # value - published (NaN for verdicts)
    agrees: bool
    source: str
    note: str = ""            # e.g. the verdict's threshold, a warning


class Reproduction:
    """What ``reproduce`` returns: the study, per-run Results, the rows, and
    the paths of the figure and the CSV (None when not written)."""

    def __init__(self, study, results, rows, figure=None, csv_path=None):
        self.study = study
        self.results = results
        self.rows = rows
        self.figure = figure
        self.csv = csv_path

    @property
    def ok(self) -> bool:
        """Every quantity agrees with its published value."""
        return all(r.agrees for r in self.rows)

    def table(self) -> str:
        return format_table(self.study, self.rows)

    def __repr__(self):
        return "<nnft.Reproduction %s: %d/%d agree>" % (
            self.study["id"], sum(r.agrees for r in self.rows),
            len(self.rows))


def reproduce(name: str, client=None, *, server: Optional[str] = None,
              out_dir: Optional[str] = ".", num_networks: Optional[int] = None,
              directory: Optional[str] = None, timeout: float = 1800.0,
              figure: bool = True, out=None) -> Reproduction:
    """Runs study ``name`` on a server and compares with the papers.

    client: an nnft.Client (else one is opened to ``server``, default
      $NNFT_SERVER or 127.0.0.1:50051, and closed afterwards).
    out_dir: where ``<id>.png`` and ``<id>.csv`` go (created; None: no files).
    num_networks: overrides every run's sampling.num_networks (smaller runs
      for tests; the published comparison then has larger errors).
    timeout: seconds to wait for each run's result.
    out: file the table is printed to (None: stdout; False: nothing).
    """
    study = load_study(name, directory)
    if client is None:
        from nnft.client import Client
        with Client(server or os.environ.get("NNFT_SERVER",
                                             "127.0.0.1:50051")) as c:
            return reproduce(name, c, out_dir=out_dir,
                             num_networks=num_networks, directory=directory,
                             timeout=timeout, figure=figure, out=out)
    out = sys.stdout if out is None else out
    jobs = {}
    for run in study["runs"]:  # submit all, then wait: the server queues them
        spec = copy.deepcopy(run["spec"])
        if num_networks is not None:
            spec.setdefault("sampling", {})
            spec["sampling"].pop("numNetworks", None)
            spec["sampling"]["num_networks"] = str(int(num_networks))
        jobs[run["name"]] = client.submit(spec)
    results = {n: j.result(timeout=timeout) for n, j in jobs.items()}
    rows = [compare(q, results) for q in study["quantities"]]
    png = csv_path = None
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        csv_path = os.path.join(out_dir, study["id"] + ".csv")
        write_csv(rows, csv_path)
        if figure:
            from nnft import reproduction_figures  # matplotlib only here
            png = os.path.join(out_dir, study["id"] + ".png")
            reproduction_figures.draw(study, results, png)
    rep = Reproduction(study, results, rows, png, csv_path)
    if out:
        out.write(rep.table())
        for path in (csv_path, png):
            if path:
                out.write("wrote %s\n" % path)
    return rep


# -- extraction and comparison ------------------------------------------------

@dataclasses.dataclass
class Extracted:
    value: float
    err: float = float("nan")
    theory: Dict[str, float] = dataclasses.field(default_factory=dict)
    verdict: str = ""
    note: str = ""


def extract(spec: Dict[str, Any], result) -> Extracted:
    """The quantity ``spec`` (a study's "extract" object) from a Result."""
    kind = spec["kind"]
    if kind == "entry":
        i = result.index(spec["tuple"])
        return Extracted(result.mean[i], result.stderr[i],
                         {"exact": result.exact[i], "gp": result.gp[i]},
                         note=_verdict_note(result, i))
    if kind == "reweight_shift":
        i = result.index(spec["tuple"])
        return Extracted(result.shift[i], result.shift_stderr[i],
                         {"first_order": result.first_order_shift[i]})
    if kind == "deviation":
        sw = result.sweep
        w = list(sw.widths).index(int(spec["width"]))
        i = sw.index(spec["tuple"])
        scale = float(spec["width"]) if spec.get("times_width") else 1.0
        gp = sw.gp[w, i]
        exact = abs(sw.exact[w, i] - gp) / abs(gp)
        return Extracted(scale * sw.deviation[w, i],
                         scale * sw.deviation_background[w, i],
                         {"exact": scale * exact})
    if kind == "sweep_fit":
        f = result.sweep.fit(spec["tuple"])
        return Extracted(f.exponent, f.exponent_stderr,
                         note="%d/%d widths" % (f.widths_used,
                                                f.widths_used +
                                                f.widths_dropped))
    if kind == "coupling_slope":
        ec = result.effective_coupling
        if ec is None or ec.error:
            raise errors.NnftError("no effective coupling in %s: %s" % (
                result.name, ec.error if ec else "not requested"))
        return Extracted(ec.slope, ec.slope_stderr)
    if kind == "conformal":
        m = _conformal_measured(result, spec)
        return Extracted(m.value, m.stderr, {"exact": m.exact})
    if kind == "symmetry":
        for s in result.symmetry:
            if s.label == spec["label"]:
                return Extracted(
                    s.max_abs_z, float("nan"),
                    verdict="invariant" if s.consistent else "broken",
                    note="max|z| %.3g vs threshold %.3g, chi2/dof %.3g "
                    "(dof %d)" % (s.max_abs_z, s.z_threshold, s.chi2_per_dof,
                                  s.dof))
        raise KeyError("no symmetry check %r in %s" % (spec["label"],
                                                        result.name))
    raise ValueError("unknown extract kind %r" % kind)


def compare(q: Dict[str, Any], results) -> Row:
    """One table row: the quantity ``q`` of a study against its published
    value."""
    got = extract(q["extract"], results[q["run"]])
    pub = q["published"]
    rule = q.get("compare", {})
    if "verdict" in pub:
        return Row(q["label"], pub["verdict"], got.value, got.err,
                   float("nan"), float("nan"), got.verdict == pub["verdict"],
                   pub["source"], "nnft: %s; %s" % (got.verdict, got.note))
    if "value" in pub:
        ref = float(pub["value"])
    else:
        ref = got.theory.get(pub["theory"], float("nan"))
    diff = got.value - ref
    z = diff / got.err if got.err > 0 else float("nan")
    max_z = float(rule.get("max_abs_z", 3))
    tol = float(rule.get("tolerance", 0))
    agrees = (math.isfinite(z) and abs(z) <= max_z) or \
        (math.isfinite(diff) and abs(diff) <= tol)
    return Row(q["label"], ref, got.value, got.err, z, diff, agrees,
               pub["source"], got.note)


def format_table(study, rows) -> str:
    lines = ["# %s (arXiv %s)" % (study["title"], study.get("arxiv", "")),
             "# %s" % study["citation"]]
    head = ("quantity", "published", "nnft +- err", "z or difference",
            "agrees")
    cells = [head]
    for r in rows:
        if isinstance(r.published, str):
            pub, got, zd = r.published, r.note.split(";")[0].replace(
                "nnft: ", ""), "max|z| %.3g" % r.value
        else:
            pub = "%.6g" % r.published
            got = "%.6g +- %.2g" % (r.value, r.err) if math.isfinite(r.err) \
                else "%.6g" % r.value
            zd = "z = %+.2f" % r.z if math.isfinite(r.z) and \
                abs(r.z) < 1e6 else "diff = %.3g" % r.difference
        cells.append((r.label, pub, got, zd, "yes" if r.agrees else "NO"))
    widths = [max(len(c[k]) for c in cells) for k in range(len(head))]
    for c in cells:
        lines.append("  ".join(s.ljust(w) for s, w in zip(c, widths))
                     .rstrip())
    lines.append("# sources:")
    for r in rows:
        lines.append("#   %s: %s%s" % (r.label, r.source,
                                        "" if isinstance(r.published, str)
                                        or not r.note else " [%s]" % r.note))
    lines.append("# %d of %d quantities agree with the published values" % (
        sum(r.agrees for r in rows), len(rows)))
    return "\n".join(lines) + "\n"


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("quantity", "published", "nnft", "stderr", "z",
                    "difference", "agrees", "source"))
        for r in rows:
            w.writerow((r.label, r.published, repr(float(r.value)),
                        repr(float(r.err)), repr(float(r.z)),
                        repr(float(r.difference)), int(r.agrees), r.source))


# -- helpers ------------------------------------------------------------------

def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise errors.InvalidSpec("reproduce: %s: %s" % (path, err))


def _run_spec(run, base):
    if "spec" in run:
        spec = copy.deepcopy(run["spec"])
    else:
        spec = _read_json(os.path.join(base, run["spec_file"]))
    if "label" in run:
        spec["label"] = run["label"]
    return spec


def _conformal_measured(result, spec):
    c = result.conformal
    if c is None:
        raise KeyError("no null-cone analysis in %s" % result.name)
    field = spec["field"]
    if field in ("mu2", "mu4", "mu4_mixed"):
        return getattr(c, field)
    want = list(spec["index"])
    for q in c.four_point:
        if list(q.index) == want:
            return getattr(q, field)
    raise KeyError("no four-point entry %s in %s" % (want, result.name))


def _verdict_note(result, i):
    v = result.verdict[i] if i < len(result.verdict) else ""
    return "" if v in ("", "OK") else "verdict %s" % v
