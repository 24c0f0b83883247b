"""Builders for the common experiments, so nobody hand-writes nested dicts.

Each returns an ``nnft.v1.ExperimentSpec`` (see proto/nnft/v1/spec.proto for
the meaning, units and valid range of every field; the server validates them
and answers INVALID_ARGUMENT naming the field). Points are a P x d array-like,
or a flat list of P numbers for d = 1.

    spec = nnft.experiments.mlp(widths=[64], activation="erf",
                                points=[0.0, 0.5, 1.0], seed=7)
    sweep = nnft.experiments.width_sweep(spec, [8, 16, 32, 64])  # one job

Architectures: mlp, gauss_net, cos_net, conv1d, attention, kan, null_cone,
ou_net. Analyses (each returns a new spec): width_sweep, width_copies,
deformed, phi4_box / insertion, effective_coupling, training,
reflection_positivity, symmetry, cluster. Enum names are accepted
case-insensitively, with or without their prefix ("relu", "ACTIVATION_RELU").
"""

import copy
from typing import Any, List, Optional, Sequence, Union

import numpy as np

from nnft import enums, errors
from nnft.v1 import spec_pb2

_PRECISIONS = "Precision"
_BIAS_LAWS = "BiasLaw"


def line_points(num: int, start: float = 0.0, stop: float = 1.0,
                dim: int = 1) -> np.ndarray:
    """``num`` points evenly spaced on the first axis from start to stop."""
    pts = np.zeros((int(num), int(dim)))
    pts[:, 0] = np.linspace(start, stop, int(num))
    return pts


# First-layer bias scale sb[0] of the mlp builder when sb is not given. With
# every bias 0 and an activation with act(0) = 0 (identity, relu, erf, tanh,
# gelu, sin) every network vanishes at x = 0, so G(0, ...) = 0 identically;
# a first-layer bias keeps the origin a physical point. The spec's own
# default (proto, CLI, JSON files) stays all 0: pass sb=0 for it.
DEFAULT_FIRST_LAYER_BIAS = 0.5


def mlp(widths: Union[int, Sequence[int]], points: Any,
        activation: Union[str, int] = "erf", *, sw: Any = None,
        sb: Any = None, first_bias: Union[str, int, None] = None,
        **common: Any) -> spec_pb2.ExperimentSpec:
    """A multi-layer perceptron with hidden widths ``widths`` (int or list).

    activation: a name, case-insensitive, with or without the ACTIVATION_
    prefix ("erf", "RELU", "ACTIVATION_TANH", ...) or an Activation value.
    sw, sb: L + 1 weight and bias scales, or one number for every layer.
      Default sw: all 1. Default sb: (DEFAULT_FIRST_LAYER_BIAS = 0.5, 0, ...,
      0), so that phi(0) is not identically 0 for odd activations; sb=0
      gives the unbiased net (the spec's default).
    first_bias: "gaussian" (default) or "uniform_phase" (cos only; then sb
      defaults to all 0).
    common: see _finish (orders, tuples, seed, num_networks, ...).
    """
    pts = _points(points)
    spec = spec_pb2.ExperimentSpec()
    m = spec.architecture.mlp
    m.input_dim = pts.shape[1]
    m.widths.extend(int(w) for w in np.atleast_1d(widths))
    m.activation = _activation(activation)
    layers = len(m.widths) + 1
    if first_bias is not None:
        m.first_bias = _enum(first_bias, _BIAS_LAWS, "first_bias")
    if sw is not None:
        m.sw.extend(_per_layer(sw, layers, "sw"))
    if sb is None and m.first_bias != spec_pb2.BIAS_LAW_UNIFORM_PHASE:
        sb = [DEFAULT_FIRST_LAYER_BIAS] + [0.0] * (layers - 1)
    if sb is not None:
        m.sb.extend(_per_layer(sb, layers, "sb"))
    return _finish(spec, pts, **common)


def _per_layer(values, layers, field):
    """One float per layer: a scalar is broadcast; a list is kept as given
    (the server checks its length and names the field)."""
    v = np.atleast_1d(np.asarray(values, dtype=float))
    if v.ndim != 1:
        raise errors.InvalidSpec("%s: expected a number or a list of %d "
                                 "numbers" % (field, layers))
    if v.size == 1:
        v = np.repeat(v, layers)
    return [float(x) for x in v]


def gauss_net(width: int, points: Any, *, sw0: Optional[float] = None,
              sb0: float = 0.0, sw1: Optional[float] = None, sb1: float = 0.0,
              **common: Any) -> spec_pb2.ExperimentSpec:
    """The Gauss-net of arXiv 2008.08601 with N = width."""
    pts = _points(points)
    spec = spec_pb2.ExperimentSpec()
    g = spec.architecture.gauss_net
    g.input_dim = pts.shape[1]
    g.width = int(width)
    if sw0 is not None:
        g.sw0 = float(sw0)
    if sw1 is not None:
        g.sw1 = float(sw1)
    g.sb0, g.sb1 = float(sb0), float(sb1)
    return _finish(spec, pts, **common)


def cos_net(width: int, points: Any, *, mass: Optional[float] = None,
            cutoff: Optional[float] = None, sa: Optional[float] = None,
            **common: Any) -> spec_pb2.ExperimentSpec:
    """The phi^4 free cos-net of arXiv 2307.03223 with N = width."""
    pts = _points(points)
    spec = spec_pb2.ExperimentSpec()
    c = spec.architecture.cos_net
    c.input_dim = pts.shape[1]
    c.width = int(width)
    for name, value in (("mass", mass), ("cutoff", cutoff), ("sa", sa)):
        if value is not None:
            setattr(c, name, float(value))
    return _finish(spec, pts, **common)


def phi4_box(width: int, points: Any, *, box_side: float, lam: float,
             mass: Optional[float] = None, cutoff: Optional[float] = None,
             ess_warning_fraction: Optional[float] = None,
             **common: Any) -> spec_pb2.ExperimentSpec:
    """The free cos-net on a periodic box of side ``box_side``, reweighted by
    exp(-(lam/4!) int_box phi^4) (spec.insertion; see spec.proto).

    The result carries reweighted correlators, the free ones of the same
    networks, their shift with errors, the first-order (tadpole) shift and
    the effective sample size (``Result.reweight``).
    """
    spec = cos_net(width, points, mass=mass, cutoff=cutoff, **common)
    spec.architecture.cos_net.box_side = float(box_side)
    setattr(spec.insertion, "lambda", float(lam))
    if ess_warning_fraction is not None:
        spec.insertion.ess_warning_fraction = float(ess_warning_fraction)
    return spec


def deformed(spec: Any, *, s: float, lam: float,
             layer: Optional[int] = None) -> spec_pb2.ExperimentSpec:
    """A copy of an MLP ``spec`` with the radially deformed density
    exp(-|A|^2/s^2 - lam |A|^4) on one layer (default the output layer).
    """
    from nnft.specs import to_spec  # local: avoids an import cycle
    out = copy.deepcopy(to_spec(spec))
    if out.architecture.WhichOneof("kind") != "mlp":
        raise errors.InvalidSpec("deformed: needs an mlp architecture")
    d = out.architecture.mlp.deformation
    d.s = float(s)
    setattr(d, "lambda", float(lam))
    if layer is not None:
        d.layer = int(layer)
    return out


def effective_coupling(spec: Any, cutoffs: Sequence[float] = (), *,
                       amputated_vertex: bool = False
                       ) -> spec_pb2.ExperimentSpec:
    """A copy of ``spec`` asking for the effective quartic couplings at the
    given cutoffs (and the amputated vertex); see EffectiveCoupling."""
    from nnft.specs import to_spec  # local: avoids an import cycle
    out = copy.deepcopy(to_spec(spec))
    out.effective_coupling.cutoffs.extend(float(c) for c in cutoffs)
    out.effective_coupling.amputated_vertex = bool(amputated_vertex)
    return out


def width_sweep(spec: Any, widths: Sequence[int]) -> spec_pb2.ExperimentSpec:
    """One width-sweep experiment: ``spec`` (any spec form) run by the server
    at each width in ``widths`` (2 to 32 distinct values).

    Every width is a sub-experiment with its own store digest (its chunks are
    shared with single-width experiments); the result (``Result.sweep``) holds
    per-width estimates beside exact finite-width theory, the deviation m_n
    from the NNGP, and fits of |G4_c|, |G6_c| = A N^s. For an MLP every hidden
    layer is set to N. Returns a new ExperimentSpec.
    """
    from nnft.specs import to_spec  # local: avoids an import cycle
    s = copy.deepcopy(to_spec(spec))
    if s.architecture.WhichOneof("kind") is None:
        raise errors.InvalidSpec("architecture: unset; width_sweep needs "
                                 "mlp, gauss_net or cos_net")
    del s.width_sweep.widths[:]
    s.width_sweep.widths.extend(int(n) for n in widths)
    return s


def width_copies(spec: Any, widths: Sequence[int]
                 ) -> List[spec_pb2.ExperimentSpec]:
    """Copies of ``spec`` (any spec form) at each width in ``widths``, to be
    submitted as separate experiments (``width_sweep`` is one experiment).

    For an MLP every hidden layer gets the width; labels read "width=N".
    """
    from nnft.specs import to_spec  # local: avoids an import cycle
    base = to_spec(spec)
    out = []
    for n in widths:
        s = copy.deepcopy(base)
        kind = s.architecture.WhichOneof("kind")
        if kind == "mlp":
            depth = max(len(s.architecture.mlp.widths), 1)
            del s.architecture.mlp.widths[:]
            s.architecture.mlp.widths.extend([int(n)] * depth)
        elif kind in ("gauss_net", "cos_net"):
            getattr(s.architecture, kind).width = int(n)
        else:
            raise errors.InvalidSpec("architecture: unset; width_sweep needs "
                                     "mlp, gauss_net or cos_net")
        s.label = (base.label + " " if base.label else "") + "width=%d" % n
        out.append(s)
    return out


def _finish(spec, pts, *, orders=None, tuples=None, seed=0,
            num_networks=None, chunk_size=None, precision=None,
            integrate_output_layer=False, integrate_first_layer_bias=False,
            target_stderr=None, label=""):
    """Fills points, observables and sampling.

    orders: correlator orders (default [2, 4] on the server).
    tuples: explicit index tuples (lists of 0-based point indices).
    num_networks, chunk_size, seed, precision ("float64"/"float32"),
    integrate_output_layer, integrate_first_layer_bias (Gauss-net only),
    target_stderr: see Sampling in spec.proto.
    """
    for row in pts:
        spec.points.add().x.extend(float(v) for v in row)
    if orders is not None:
        spec.observables.orders.extend(int(n) for n in np.atleast_1d(orders))
    for t in tuples or ():
        spec.observables.tuples.add().index.extend(int(i) for i in t)
    s = spec.sampling
    s.seed = int(seed)
    if num_networks is not None:
        s.num_networks = int(num_networks)
    if chunk_size is not None:
        s.chunk_size = int(chunk_size)
    if precision is not None:
        s.precision = _enum(precision, _PRECISIONS, "precision")
    s.integrate_output_layer = bool(integrate_output_layer)
    s.integrate_first_layer_bias = bool(integrate_first_layer_bias)
    if target_stderr is not None:
        s.target_stderr = float(target_stderr)
    spec.label = label
    return spec


def _points(points):
    pts = np.asarray(points, dtype=float)
    if pts.ndim == 1:
        pts = pts[:, None]
    if pts.ndim != 2 or pts.shape[0] == 0 or pts.shape[1] == 0:
        raise errors.InvalidSpec("points: expected a non-empty P x d array, "
                                 "got shape %s" % (np.shape(points),))
    return pts


def _activation(act):
    return enums.enum_value(spec_pb2.Activation.DESCRIPTOR, act, "activation")


def _enum(value, table, field):
    """``table`` names the enum by one of its values' numbers."""
    desc = spec_pb2.DESCRIPTOR.enum_types_by_name[table]
    return enums.enum_value(desc, value, field)


# The other architectures and the analyses, so that nnft.experiments holds
# every builder (imported last: those modules use the helpers above).
from nnft.architectures import (attention, conv1d, kan, null_cone,  # noqa
                                ou_net)
from nnft.analyses import (cluster, insertion,  # noqa: E402
                           reflection_positivity, symmetry, training)

__all__ = [
    "DEFAULT_FIRST_LAYER_BIAS", "attention", "cluster", "conv1d", "cos_net",
    "deformed", "effective_coupling", "gauss_net", "insertion", "kan",
    "line_points", "mlp", "null_cone", "ou_net", "phi4_box",
    "reflection_positivity", "symmetry", "training", "width_copies",
    "width_sweep",
]
