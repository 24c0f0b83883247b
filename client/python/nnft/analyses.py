"""Builders that add an analysis to a spec: ensemble training (learning
dynamics), the phi^4 operator insertion, reflection positivity, symmetry
and cluster checks. (Width sweeps, deformations and effective couplings are
``nnft.experiments.width_sweep``, ``deformed`` and ``effective_coupling``.)

Each takes a spec in any form (builder result, dict, JSON path, message)
and returns a new ``nnft.v1.ExperimentSpec``; the input is not modified.
Fields as in proto/nnft/v1/spec.proto. Every name is also in
``nnft.experiments``.
"""

import copy
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from nnft import errors, experiments as _ex
from nnft.v1 import spec_pb2


def _copy(spec: Any) -> spec_pb2.ExperimentSpec:
    from nnft.specs import to_spec  # local: avoids an import cycle
    return copy.deepcopy(to_spec(spec))


def _add_points(repeated: Any, points: Any) -> None:
    for row in _ex._points(points):
        repeated.add().x.extend(float(v) for v in row)


def training(spec: Any, x: Any = None, y: Optional[Sequence[float]] = None,
             *, times: Sequence[float] = (0.0,),
             eta: Optional[float] = None,
             method: Union[str, int, None] = None,
             tolerance: Optional[float] = None,
             last_layer_only: bool = False,
             parameterisation: Union[str, int, None] = None,
             empirical_ntk: bool = False,
             generator: Optional[Tuple[int, int]] = None,
             loss_histogram: Optional[Tuple[int, float, float]] = None
             ) -> spec_pb2.ExperimentSpec:
    """An ensemble of the MLP ``spec`` trained on (x, y), recorded at
    ``times`` at the spec's points (the test points).

    x: n training points (n x d, or n numbers for d = 1); y: n targets. Or
    generator=(n, seed): the talk's data set (needs d = 4).
    method: "gradient_descent" (default, step eta) or "gradient_flow".
    parameterisation: "ntk" (the only one supported).
    loss_histogram: (bins, min, max) of the loss over the ensemble.
    The result's ``training`` is a TrainingFlow (mu_t, Sigma_t beside the
    NTK theory).
    """
    out = _copy(spec)
    t = out.training
    if generator is not None:
        if x is not None or y is not None:
            raise errors.InvalidSpec("training: give x and y or generator, "
                                     "not both")
        t.data.generator.n, t.data.generator.seed = (int(generator[0]),
                                                     int(generator[1]))
    else:
        if x is None or y is None:
            raise errors.InvalidSpec("training: needs x and y (or "
                                     "generator=(n, seed))")
        _add_points(t.data.x, x)
        t.data.y.extend(float(v) for v in np.atleast_1d(y))
    t.times.extend(float(v) for v in times)
    if eta is not None:
        t.eta = float(eta)
    if method is not None:
        t.method = _ex._enum(method, "TrainingMethod", "training.method")
    if tolerance is not None:
        t.tolerance = float(tolerance)
    t.last_layer_only = bool(last_layer_only)
    if parameterisation is not None:
        t.parameterisation = _ex._enum(parameterisation, "Parameterisation",
                                       "training.parameterisation")
    t.empirical_ntk = bool(empirical_ntk)
    if loss_histogram is not None:
        bins, lo, hi = loss_histogram
        t.loss_histogram.bins = int(bins)
        t.loss_histogram.min, t.loss_histogram.max = float(lo), float(hi)
    return out


def insertion(spec: Any, lam: float, *,
              ess_warning_fraction: Optional[float] = None
              ) -> spec_pb2.ExperimentSpec:
    """The phi^4 insertion exp(-(lam/4!) int_box phi^4) on a box cos-net
    (``cos_net`` with box_side > 0; ``phi4_box`` builds both at once)."""
    out = _copy(spec)
    setattr(out.insertion, "lambda", float(lam))
    if ess_warning_fraction is not None:
        out.insertion.ess_warning_fraction = float(ess_warning_fraction)
    return out


def reflection_positivity(spec: Any, points: Any, *, axis: int = 0,
                          include_four_point: bool = False,
                          z_threshold: Optional[float] = None
                          ) -> spec_pb2.ExperimentSpec:
    """The Osterwalder-Schrader matrix <phi(theta x_i) phi(x_j)> for the
    reflection x[axis] -> -x[axis] at ``points`` (each with x[axis] > 0):
    its eigenvalues with errors and a verdict (``Result.reflection``)."""
    out = _copy(spec)
    rp = out.reflection_positivity
    rp.axis = int(axis)
    _add_points(rp.points, points)
    rp.include_four_point = bool(include_four_point)
    if z_threshold is not None:
        rp.z_threshold = float(z_threshold)
    return out


def symmetry(spec: Any, *, rotation: Any = None, translation: Any = None,
             reflection_axis: Optional[int] = None,
             phi_sign_flip: bool = False, output_rotation: Any = None,
             coordinate_permutation: Optional[Sequence[int]] = None,
             label: str = "") -> spec_pb2.ExperimentSpec:
    """Adds one symmetry check (give exactly one transformation): every
    requested correlator at the transformed points against the original,
    as a paired difference with chi^2/dof (``Result.symmetry``).

    rotation, output_rotation: square matrices in SO(d), SO(d_out);
    translation: d numbers; reflection_axis: x_k -> -x_k;
    coordinate_permutation: x_k -> x_p[k]; phi_sign_flip: phi -> -phi.
    """
    given = [n for n, v in (("rotation", rotation),
                            ("translation", translation),
                            ("reflection_axis", reflection_axis),
                            ("output_rotation", output_rotation),
                            ("coordinate_permutation",
                             coordinate_permutation))
             if v is not None] + (["phi_sign_flip"] if phi_sign_flip else [])
    if len(given) != 1:
        raise errors.InvalidSpec(
            "symmetry: give exactly one of rotation, translation, "
            "reflection_axis, phi_sign_flip, output_rotation, "
            "coordinate_permutation (got %s)" % (", ".join(given) or "none"))
    out = _copy(spec)
    check = out.symmetry_checks.add()
    check.label = label
    if rotation is not None:
        check.rotation.values.extend(
            float(v) for v in np.asarray(rotation, float).ravel())
    elif translation is not None:
        check.translation.x.extend(
            float(v) for v in np.atleast_1d(translation))
    elif reflection_axis is not None:
        check.reflection_axis = int(reflection_axis)
    elif output_rotation is not None:
        check.output_rotation.values.extend(
            float(v) for v in np.asarray(output_rotation, float).ravel())
    elif coordinate_permutation is not None:
        check.coordinate_permutation.index.extend(
            int(i) for i in coordinate_permutation)
    else:
        check.phi_sign_flip = True
    return out


def cluster(spec: Any, points: Sequence[int], direction: Sequence[float],
            separations: Sequence[float], *, component: int = 0,
            label: str = "") -> spec_pb2.ExperimentSpec:
    """Adds a cluster-property check: D(s) = G4(x_i, x_j, x_k + s u,
    x_l + s u) - G2(x_i, x_j) G2(x_k + s u, x_l + s u) at each separation
    s (``Result.cluster``). points: the indices i, j, k, l."""
    out = _copy(spec)
    c = out.cluster_checks.add()
    c.label = label
    c.points.extend(int(i) for i in points)
    c.component = int(component)
    c.direction.extend(float(v) for v in np.atleast_1d(direction))
    c.separations.extend(float(s) for s in separations)
    return out
