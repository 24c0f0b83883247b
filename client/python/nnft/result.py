"""The result of a job as numpy arrays, and the snapshots a watcher sees.

Values are exactly the doubles the server sent (no arithmetic on them here):
``Result`` reassembles the GetResult stream (one header, entry blocks in
order, kernel row blocks) into parallel arrays over the requested tuples.
"""

import dataclasses

import numpy as np

from nnft import checks, tables
from nnft.v1 import nnft_pb2

STATE_NAMES = {v: k for k, v in nnft_pb2.Job.State.items()}
TERMINAL_STATES = (nnft_pb2.Job.SUCCEEDED, nnft_pb2.Job.FAILED,
                   nnft_pb2.Job.CANCELLED)

_ENTRY_FIELDS = ("mean", "stderr", "connected", "connected_stderr")
_THEORY_FIELDS = ("gp", "gp_connected", "exact", "exact_connected")
_Z_FIELDS = ("z_exact", "z_exact_connected", "z_gp")
_REWEIGHT_FIELDS = ("free_mean", "free_stderr", "shift", "shift_stderr",
                    "first_order_shift")


@dataclasses.dataclass(frozen=True)
class Comparison:
    """chi^2 of the estimate against a theory (ComparisonSummary)."""
    chi2: float
    dof: int
    chi2_per_dof: float
    max_abs_z: float

    @classmethod
    def from_proto(cls, msg):
        return cls(msg.chi2, msg.dof, msg.chi2_per_dof, msg.max_abs_z)


class TrainingFlow:
    """The training flow of a training job (TrainingTime pieces, as numpy).

    Arrays over T recorded times and P points: t (T), loss_mean, loss_stderr,
    loss_std (T); mu, mu_stderr, mu_theory (T x P); sigma, sigma_stderr,
    sigma_theory (T x P x P). Theory is the infinite-width linearised flow
    (NaN where unknown). ``empirical_ntk`` is None or a dict of P x P arrays
    mean, stderr, std, theory.

    With a loss histogram (spec training.loss_histogram):
    loss_histogram_edges (B + 1), loss_histogram_counts (T x B),
    loss_histogram_underflow and loss_histogram_overflow (T),
    loss_quantile_levels (5) and loss_quantiles (T x 5); otherwise these are
    None.
    """

    def __init__(self, rows, ntk=None, theory_method=""):
        rows = sorted(rows, key=lambda r: r.index)
        self.theory_method = theory_method
        self.t = np.array([r.t for r in rows], dtype=float)
        for f in ("loss_mean", "loss_stderr", "loss_std"):
            setattr(self, f, np.array([getattr(r, f) for r in rows], float))
        p = rows[0].num_points if rows else 0
        for f in ("mu", "mu_stderr", "mu_theory"):
            setattr(self, f, np.array([_padded(getattr(r, f), p)
                                       for r in rows], float).reshape(-1, p))
        for f in ("sigma", "sigma_stderr", "sigma_theory"):
            setattr(self, f, np.array([_padded(getattr(r, f), p * p)
                                       for r in rows], float).reshape(-1, p, p))
        self._set_loss_histogram(rows)
        self.empirical_ntk = None
        if ntk is not None:
            n = ntk.num_points
            self.empirical_ntk = {
                f: np.array(_padded(getattr(ntk, f), n * n), float).reshape(n, n)
                for f in ("mean", "stderr", "std", "theory")}

    def __repr__(self):
        return "<nnft.TrainingFlow %d times in [%g, %g], %d points, loss " \
            "%.3g -> %.3g>" % (len(self.t), self.t[0] if len(self.t) else 0,
                               self.t[-1] if len(self.t) else 0,
                               self.mu.shape[1], *(
                                   (self.loss_mean[0], self.loss_mean[-1])
                                   if len(self.t) else (np.nan, np.nan)))

    def to_pandas(self):
        """Long form: one row per (time, point)."""
        return tables.training_frame(self)

    def _set_loss_histogram(self, rows):
        self.loss_histogram_edges = self.loss_histogram_counts = None
        self.loss_histogram_underflow = self.loss_histogram_overflow = None
        self.loss_quantile_levels = self.loss_quantiles = None
        if not rows or not rows[0].loss_histogram_edges:
            return
        self.loss_histogram_edges = np.array(rows[0].loss_histogram_edges,
                                             float)
        bins = len(self.loss_histogram_edges) - 1
        self.loss_histogram_counts = np.array(
            [list(r.loss_histogram_counts) for r in rows],
            np.int64).reshape(-1, bins)
        self.loss_histogram_underflow = np.array(
            [r.loss_histogram_underflow for r in rows], np.int64)
        self.loss_histogram_overflow = np.array(
            [r.loss_histogram_overflow for r in rows], np.int64)
        self.loss_quantile_levels = np.array(rows[0].loss_quantile_levels,
                                             float)
        levels = len(self.loss_quantile_levels)
        self.loss_quantiles = np.array(
            [_padded(r.loss_quantiles, levels) for r in rows],
            float).reshape(-1, levels)

    def __len__(self):
        return len(self.t)


class Result:
    """A succeeded job's full result.

    Arrays, one entry per requested tuple (length ``len(result)``):
      tuples (list of int tuples), orders, mean, stderr, connected,
      connected_stderr, gp, gp_connected, exact, exact_connected (NaN where
      unknown), z_exact, z_exact_connected, z_gp; verdict (str per entry:
      "OK", "FEW_BINS", "HEAVY_TAILED", "NO_ERROR", or "" from a server
      that sends none), verdict_reason (why, "" for OK) and reliability
      (the EntryReliability messages: dof, t95, skewness_z, kurtosis_z,
      max_bin_share). Anything but "OK" means the error bar may not be
      trusted (docs/error_bars.md).
    Also: kernel (P x P NNGP kernel), points (P x d), spec, job (the Job),
    networks, chunks, bins, seed, theory_method, has_exact, vs_exact, vs_gp,
    vs_exact_connected (Comparison), engine_fingerprint; symmetry and
    cluster (lists of nnft.checks.SymmetryResult / ClusterResult, one per
    check of the spec);
    conformal (ConformalResult of a null-cone field) and reflection
    (ReflectionPositivityResult) when the spec asked for them, else None;
    ``conformal_arrays()`` gives the former as numpy arrays.
    ``kind`` is "training" for a training job (then ``training`` is a
    TrainingFlow and there are no entries) and "correlators" otherwise.
    sweep: a SweepResult for width-sweep jobs (the arrays above are then
    empty), else None.
    """

    def __init__(self, pieces, spec=None):
        header = None
        cols = {f: [] for f in _ENTRY_FIELDS + _THEORY_FIELDS + _Z_FIELDS +
                _REWEIGHT_FIELDS}
        tuples, kernel_rows = [], {}
        self.reliability = []
        training_rows, ntk = [], None
        sweep_blocks, sweep_fits = [], []
        for piece in pieces:
            kind = piece.WhichOneof("piece")
            if kind == "header":
                header = piece.header
            elif kind == "entries":
                self._add_block(piece.entries, cols, tuples)
                self.reliability.extend(piece.entries.estimate.reliability)
            elif kind == "kernel":
                k = piece.kernel
                kernel_rows[k.row_offset] = (k.rows, list(k.values))
            elif kind == "training_time":
                training_rows.append(piece.training_time)
            elif kind == "empirical_ntk":
                ntk = piece.empirical_ntk
            elif kind == "sweep_width":
                sweep_blocks.append(piece.sweep_width)
            elif kind == "sweep_fits":
                sweep_fits.extend(piece.sweep_fits.fits)
        if header is None:
            raise ValueError("GetResult stream carried no header")
        self._set_header(header)
        self.tuples = [tuple(t) for t in tuples]
        self.verdict = [_verdict_name(r.verdict) for r in self.reliability]
        self.verdict += [""] * (len(tuples) - len(self.verdict))
        self.verdict_reason = [r.reason for r in self.reliability]
        self.verdict_reason += [""] * (len(tuples) - len(self.verdict_reason))
        self.orders = np.array([len(t) for t in tuples], dtype=np.int64)
        for name, values in cols.items():
            setattr(self, name, np.array(values, dtype=np.float64))
        self.kernel = _assemble_kernel(kernel_rows, header.num_points)
        # The header leaves out a spec over 128 KiB: fall back on the one the
        # job was submitted with.
        self.spec = header.job.spec if header.job.spec.points or spec is None \
            else spec
        self.points = np.array([list(p.x) for p in self.spec.points],
                               dtype=float)
        self.kind = "training" if header.training_times else "correlators"
        self.training = None
        if self.kind == "training":
            if len(training_rows) != header.training_times:
                raise ValueError("result has %d training rows; header says %d"
                                 % (len(training_rows), header.training_times))
            self.training = TrainingFlow(training_rows, ntk,
                                         header.training_theory_method)
        self.sweep = SweepResult(header.width_sweep, sweep_blocks,
                                 sweep_fits) \
            if header.HasField("width_sweep") else None

    def _set_header(self, h):
        self.job = h.job
        self.name = h.job.name
        self.num_entries = h.num_entries
        self.networks, self.chunks, self.bins = h.networks, h.chunks, h.bins
        self.seed = h.seed
        self.theory_method = h.theory_method
        self.has_exact = h.has_exact
        # exact* is finite-width theory at leading order in 1/width (deep
        # MLPs), not exact: z_exact also measures O(1/width^2) terms.
        self.theory_leading_order = h.theory_leading_order
        self.vs_exact = Comparison.from_proto(h.vs_exact)
        self.vs_gp = Comparison.from_proto(h.vs_gp)
        self.vs_exact_connected = Comparison.from_proto(h.vs_exact_connected)
        self.engine_fingerprint = h.engine_fingerprint
        # The analyses (messages as the server sent them, or None).
        self.conformal = h.conformal if h.HasField("conformal") else None
        self.reflection = (h.reflection_positivity
                           if h.HasField("reflection_positivity") else None)
        self.reweight = Reweight.from_proto(h.reweight) \
            if h.HasField("reweight") else None
        self.effective_coupling = EffectiveCoupling.from_proto(
            h.effective_coupling) if h.HasField("effective_coupling") else None
        self.symmetry = [checks.SymmetryResult.from_proto(m)
                         for m in h.symmetry]
        self.cluster = [checks.ClusterResult.from_proto(m) for m in h.cluster]

    @staticmethod
    def _add_block(block, cols, tuples):
        if block.offset != len(tuples):
            raise ValueError("result entry block at offset %d, expected %d" %
                             (block.offset, len(tuples)))
        est, th = block.estimate, block.theory
        tuples.extend(list(t.index) for t in est.tuples)
        n = len(est.tuples)
        for f in _ENTRY_FIELDS:
            cols[f].extend(_padded(getattr(est, f), n))
        for f in _THEORY_FIELDS:
            cols[f].extend(_padded(getattr(th, f), n))
        for f in _Z_FIELDS:
            cols[f].extend(_padded(getattr(block, f), n))
        for f in _REWEIGHT_FIELDS:
            cols[f].extend(_padded(getattr(block.reweight, f), n))

    def __len__(self):
        return len(self.tuples)

    def conformal_arrays(self):
        """The null-cone four-point entries as numpy arrays: u, v, g,
        g_stderr, g_exact, g4, g4_stderr, g4_exact (empty without them)."""
        quads = list(self.conformal.four_point) if self.conformal else []
        pick = {"u": lambda q: q.u, "v": lambda q: q.v,
                "g": lambda q: q.g.value, "g_stderr": lambda q: q.g.stderr,
                "g_exact": lambda q: q.g.exact,
                "g4": lambda q: q.g4.value,
                "g4_stderr": lambda q: q.g4.stderr,
                "g4_exact": lambda q: q.g4.exact}
        return {k: np.array([f(q) for q in quads], dtype=np.float64)
                for k, f in pick.items()}

    def index(self, tup):
        """Position of a tuple (any order of its indices) in the arrays."""
        key = tuple(sorted(tup))
        for i, t in enumerate(self.tuples):
            if tuple(sorted(t)) == key:
                return i
        raise KeyError("tuple %s not in this result" % (tup,))

    def select(self, order):
        """Indices of the entries of correlator order ``order``."""
        return np.flatnonzero(self.orders == order)

    def to_dict(self):
        """A JSON-ready dict of the arrays (NaN kept as float('nan'))."""
        out = {"name": self.name, "networks": self.networks,
               "chunks": self.chunks, "bins": self.bins, "seed": self.seed,
               "theory_method": self.theory_method,
               "has_exact": self.has_exact,
               "tuples": [list(t) for t in self.tuples],
               "kernel": self.kernel.tolist()}
        for f in _ENTRY_FIELDS + _THEORY_FIELDS + _Z_FIELDS:
            out[f] = getattr(self, f).tolist()
        return out

    def __repr__(self):
        return "<nnft.Result %s: %s>" % (self.name, tables.summary(self))

    def _repr_html_(self):
        """Notebook view: a summary and the first rows of the entries."""
        return tables.result_html(self)

    def to_pandas(self):
        """A pandas DataFrame: one row per tuple (tuple, order, mean, stderr,
        exact, z_exact, gp, z_gp, connected, ...); for a width sweep the
        long form of ``sweep.to_pandas()``, for a training job that of
        ``training.to_pandas()``. Needs pandas (Debian: python3-pandas)."""
        if self.sweep is not None:
            return self.sweep.to_pandas()
        if self.training is not None:
            return self.training.to_pandas()
        return tables.result_frame(self)


@dataclasses.dataclass(frozen=True)
class Reweight:
    """phi^4 reweighting summary (ReweightSummary). The per-entry arrays are
    on the Result: mean/stderr are reweighted; free_mean, free_stderr, shift,
    shift_stderr, first_order_shift beside them (NaN without insertion)."""
    lam: float
    ess: float
    ess_fraction: float
    ess_warning: bool
    warning: str
    mean_action: float
    mean_action_weighted: float

    @classmethod
    def from_proto(cls, m):
        return cls(getattr(m, "lambda"), m.ess, m.ess_fraction, m.ess_warning,
                   m.warning, m.mean_action, m.mean_action_weighted)


@dataclasses.dataclass(frozen=True)
class EffectiveCoupling:
    """Effective quartic couplings (EffectiveCouplingResult), numpy arrays."""
    cutoffs: np.ndarray
    lam: np.ndarray
    lam_stderr: np.ndarray
    tuples_used: np.ndarray
    slope: float
    slope_stderr: float
    vertex_tuples: list
    vertex: np.ndarray
    vertex_stderr: np.ndarray
    method: str
    error: str

    @classmethod
    def from_proto(cls, m):
        return cls(np.array(m.cutoffs), np.array(getattr(m, "lambda")),
                   np.array(m.lambda_stderr), np.array(m.tuples_used),
                   m.slope, m.slope_stderr,
                   [tuple(t.index) for t in m.vertex_tuples],
                   np.array(m.vertex), np.array(m.vertex_stderr), m.method,
                   m.error)


def _verdict_name(value):
    """ "OK", "HEAVY_TAILED", ... for an nnft.v1.Verdict value ("" when
    unspecified)."""
    if value == 0:
        return ""
    return nnft_pb2.Verdict.Name(value).removeprefix("VERDICT_")


def _padded(values, n):
    """Repeated doubles of length n (NaN where the server sent none)."""
    values = list(values)
    return values if len(values) == n else values + [float("nan")] * (
        n - len(values))


def _assemble_kernel(rows, p):
    kernel = np.full((p, p), np.nan)
    for offset, (count, values) in rows.items():
        block = np.array(values, dtype=float).reshape(count, p)
        kernel[offset:offset + count] = block
    return kernel


@dataclasses.dataclass(frozen=True)
class PowerLawFit:
    """|G^(n)_c| = amplitude * N^exponent at one tuple, fitted by the server
    (weighted least squares of log|G_c| on log N; widths with |G_c| < 2 stderr
    dropped). expected_exponent = -(n/2 - 1), z = (exponent - expected) /
    exponent_stderr."""
    tuple: tuple
    order: int
    exponent: float
    exponent_stderr: float
    amplitude: float
    amplitude_stderr: float
    chi2: float
    dof: int
    chi2_per_dof: float
    widths_used: int
    widths_dropped: int
    expected_exponent: float
    z: float

    def __repr__(self):
        return "PowerLawFit(G%d_c%s ~ N^(%.4g +- %.2g), expected %g, z = %.2f)" \
            % (self.order, tables._tuple_label(self.tuple), self.exponent,
               self.exponent_stderr, self.expected_exponent, self.z)

    @classmethod
    def from_proto(cls, f):
        return cls(tuple(f.tuple.index), f.order, f.exponent,
                   f.exponent_stderr, f.amplitude, f.amplitude_stderr, f.chi2,
                   f.dof, f.chi2_per_dof, f.widths_used, f.widths_dropped,
                   f.expected_exponent, f.z)


class SweepResult:
    """A width sweep's result: arrays of shape (widths, entries).

    widths (ascending), tuples, orders; mean, stderr, connected,
    connected_stderr, gp, gp_connected, exact, exact_connected, z_exact,
    z_exact_connected, z_gp, deviation (m_n = |G - G_GP| / |G_GP|),
    deviation_background (stderr / |G_GP|); fits (list of PowerLawFit);
    digests (per width: its chunks' key in the store); vs_exact,
    vs_exact_connected (per-width Comparison); fit_method.
    """

    def __init__(self, summary, blocks, fits):
        self.widths = np.array(summary.widths, dtype=np.int64)
        self.digests = list(summary.digests)
        self.vs_exact = [Comparison.from_proto(c) for c in summary.vs_exact]
        self.vs_exact_connected = [Comparison.from_proto(c)
                                   for c in summary.vs_exact_connected]
        self.fit_method = summary.fit_method
        names = _ENTRY_FIELDS + _THEORY_FIELDS + _Z_FIELDS + \
            _REWEIGHT_FIELDS + ("deviation", "deviation_background")
        rows = [{f: [] for f in names} for _ in self.widths]
        tuples = [[] for _ in self.widths]
        for b in blocks:
            w = b.width_index
            if b.entries.offset != len(tuples[w]):
                raise ValueError("sweep block of width %d at offset %d, "
                                 "expected %d" % (b.width, b.entries.offset,
                                                  len(tuples[w])))
            cols = rows[w]
            Result._add_block(b.entries, cols, tuples[w])
            n = len(b.entries.estimate.tuples)
            cols["deviation"].extend(_padded(b.deviation, n))
            cols["deviation_background"].extend(
                _padded(b.deviation_background, n))
        if any(len(t) != summary.entries_per_width for t in tuples):
            raise ValueError("sweep result: a width lacks entries")
        if len(fits) != summary.num_fits:
            raise ValueError("sweep result has %d fits; header says %d" %
                             (len(fits), summary.num_fits))
        self.tuples = [tuple(t) for t in tuples[0]] if tuples else []
        self.orders = np.array([len(t) for t in self.tuples], dtype=np.int64)
        for f in names:
            setattr(self, f, np.array([r[f] for r in rows], dtype=np.float64))
        self.fits = tables.FitList(PowerLawFit.from_proto(f) for f in fits)

    def __repr__(self):
        return "<nnft.SweepResult %s>" % tables.sweep_summary(self)

    def to_pandas(self):
        """Long form: one row per (width, tuple); fits: ``fits.to_pandas()``.
        """
        return tables.sweep_frame(self)

    def index(self, tup):
        """Position of a tuple (any order of its indices) in the entries."""
        key = tuple(sorted(tup))
        for i, t in enumerate(self.tuples):
            if tuple(sorted(t)) == key:
                return i
        raise KeyError("tuple %s not in this sweep" % (tup,))

    def fit(self, tup):
        """The PowerLawFit of a tuple of order 4 or 6."""
        key = tuple(sorted(tup))
        for f in self.fits:
            if tuple(sorted(f.tuple)) == key:
                return f
        raise KeyError("no fit for tuple %s" % (tup,))


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """One progress update of a watched job (JobUpdate, as numpy)."""
    job: object                 # the Job message
    state: str                  # "QUEUED", "RUNNING", "SUCCEEDED", ...
    chunks_done: int
    chunks_total: int
    networks_done: int
    networks_total: int
    max_stderr: float
    tuples: list
    mean: np.ndarray
    stderr: np.ndarray
    # Width sweeps: the widths with an estimate so far and the fits so far.
    sweep_widths: tuple = ()
    sweep_fits: tuple = ()
    # Training jobs: the flow so far (TrainingFlow over the first 8 points,
    # with the loss histogram when requested), else None.
    training: object = None

    def __repr__(self):
        return "<nnft.Snapshot %s %d/%d chunks, %d/%d networks>" % (
            self.state, self.chunks_done, self.chunks_total,
            self.networks_done, self.networks_total)

    @property
    def fraction(self):
        """Share of the chunks done, in [0, 1]."""
        return self.chunks_done / self.chunks_total if self.chunks_total else 0.

    @property
    def done(self):
        return self.job.state in TERMINAL_STATES

    @classmethod
    def from_update(cls, update):
        job, p, est = update.job, update.job.progress, update.estimate
        return cls(job=job, state=STATE_NAMES.get(job.state, "UNKNOWN"),
                   chunks_done=p.chunks_done, chunks_total=p.chunks_total,
                   networks_done=p.networks_done,
                   networks_total=p.networks_total,
                   max_stderr=update.max_stderr,
                   tuples=[tuple(t.index) for t in est.tuples],
                   mean=np.array(est.mean, dtype=float),
                   stderr=np.array(est.stderr, dtype=float),
                   sweep_widths=tuple(b.width
                                      for b in update.width_sweep.blocks),
                   sweep_fits=tuple(PowerLawFit.from_proto(f)
                                    for f in update.width_sweep.fits),
                   training=(TrainingFlow(update.training)
                             if len(update.training) else None))
