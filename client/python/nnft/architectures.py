"""Builders of the architectures beside the MLP, Gauss-net and cos-net:
1-D convolution, softmax self-attention, Kolmogorov-Arnold nets, the
null-cone conformal field and the net on an Ornstein-Uhlenbeck path.

Each returns an ``nnft.v1.ExperimentSpec``; field meanings, units and ranges
are those of proto/nnft/v1/spec.proto (the server validates them and names
the field when one is out of range). ``common`` keywords are those of
``nnft.experiments.mlp`` (orders, tuples, seed, num_networks, chunk_size,
precision, integrate_output_layer, target_stderr, label). Every name of the
module is also in ``nnft.experiments``.
"""

from typing import Any, Optional, Sequence, Union

import numpy as np

from nnft import errors, experiments as _ex
from nnft.v1 import spec_pb2

ArrayLike = Union[Sequence[float], Sequence[Sequence[float]], np.ndarray]


def _set_optional(msg: Any, **values: Optional[float]) -> None:
    for name, value in values.items():
        if value is not None:
            setattr(msg, name, value)


def conv1d(channels: int, points: ArrayLike, activation: Union[str, int]
           = "erf", *, sequence_length: Optional[int] = None,
           in_channels: int = 1, kernel_size: int = 3,
           layers: Optional[int] = None, padding: Union[str, int, None] = None,
           output_position: int = 0, sw: Any = None, sb: Any = None,
           **common: Any) -> spec_pb2.ExperimentSpec:
    """A 1-D convolutional net with N = ``channels`` channels.

    points: P sequences, each flattened as x[t * in_channels + c]
      (dimension T in_channels); sequence_length defaults to that / C_in.
    padding: "circular" (default) or "zero". sw, sb: L + 1 scales or one
      number for every layer (default all 1, all 0).
    """
    pts = _ex._points(points)
    spec = spec_pb2.ExperimentSpec()
    c = spec.architecture.conv1d
    dim = pts.shape[1]
    if sequence_length is None:
        if dim % int(in_channels):
            raise errors.InvalidSpec(
                "conv1d: point dimension %d is not a multiple of in_channels"
                " = %d" % (dim, in_channels))
        sequence_length = dim // int(in_channels)
    c.sequence_length = int(sequence_length)
    c.in_channels = int(in_channels)
    c.kernel_size = int(kernel_size)
    c.channels = int(channels)
    if layers is not None:
        c.layers = int(layers)
    c.activation = _ex._activation(activation)
    if padding is not None:
        c.padding = _ex._enum(padding, "Padding", "padding")
    c.output_position = int(output_position)
    n = (int(layers) if layers is not None else 1) + 1
    if sw is not None:
        c.sw.extend(_ex._per_layer(sw, n, "sw"))
    if sb is not None:
        c.sb.extend(_ex._per_layer(sb, n, "sb"))
    return _ex._finish(spec, pts, **common)


def attention(heads: int, points: ArrayLike, *, sequence_length: int,
              head_dim: Optional[int] = None, output_position: int = 0,
              output_component: int = 0, sq: Optional[float] = None,
              sk: Optional[float] = None, sv: Optional[float] = None,
              so: Optional[float] = None, sb: float = 0.0,
              **common: Any) -> spec_pb2.ExperimentSpec:
    """One multi-head softmax self-attention layer with N = ``heads``.

    points: P sequences of T = sequence_length tokens of dimension D,
      flattened as x[t * D + a] (so D = point dimension / T).
    """
    pts = _ex._points(points)
    t = int(sequence_length)
    if t <= 0 or pts.shape[1] % t:
        raise errors.InvalidSpec(
            "attention: point dimension %d is not a multiple of "
            "sequence_length = %d" % (pts.shape[1], t))
    spec = spec_pb2.ExperimentSpec()
    a = spec.architecture.attention
    a.sequence_length, a.embed_dim, a.heads = t, pts.shape[1] // t, int(heads)
    if head_dim is not None:
        a.head_dim = int(head_dim)
    a.output_position, a.output_component = (int(output_position),
                                             int(output_component))
    _set_optional(a, sq=sq, sk=sk, sv=sv, so=so)
    a.sb = float(sb)
    return _ex._finish(spec, pts, **common)


def kan(width: int, points: ArrayLike, *, grid_size: Optional[int] = None,
        spline_order: Optional[int] = None,
        grid_range: Optional[float] = None,
        base_activation: Union[str, int, None] = None,
        sa0: Optional[float] = None, sc0: Optional[float] = None,
        sa1: Optional[float] = None, sc1: Optional[float] = None,
        **common: Any) -> spec_pb2.ExperimentSpec:
    """A Kolmogorov-Arnold net [d, N, 1] (arXiv 2404.19756) with random
    coefficients; base_activation defaults to gelu on the server."""
    pts = _ex._points(points)
    spec = spec_pb2.ExperimentSpec()
    k = spec.architecture.kan
    k.input_dim, k.width = pts.shape[1], int(width)
    _set_optional(k, grid_size=grid_size, spline_order=spline_order,
                  grid_range=grid_range, sa0=sa0, sc0=sc0, sa1=sa1, sc1=sc1)
    if base_activation is not None:
        k.base_activation = _ex._activation(base_activation)
    return _ex._finish(spec, pts, **common)


def null_cone(points: ArrayLike, *, law: Union[str, int, None] = None,
              scale: Optional[float] = None,
              radii: Optional[Sequence[float]] = None,
              radial_weights: Optional[Sequence[float]] = None,
              **common: Any) -> spec_pb2.ExperimentSpec:
    """The conformal field Phi = Theta.X on the projective null cone
    (arXiv 2409.12222) at points x in R^D.

    law: "sphere" (default), "gaussian" or "radial" (with radii and
    radial_weights). The result carries ``conformal``: mu2, mu4 and
    g(u, v) against (mu4/3)(1 + 1/u + v/u).
    """
    pts = _ex._points(points)
    spec = spec_pb2.ExperimentSpec()
    n = spec.architecture.null_cone
    n.input_dim = pts.shape[1]
    if law is not None:
        n.law = _ex._enum(law, "ThetaLaw", "law")
    _set_optional(n, scale=scale)
    n.radii.extend(float(r) for r in radii or ())
    n.radial_weights.extend(float(w) for w in radial_weights or ())
    return _ex._finish(spec, pts, **common)


def ou_net(widths: Union[int, Sequence[int]], times: ArrayLike,
           activation: Union[str, int] = "erf", *,
           tau: Optional[float] = None, sigma: Optional[float] = None,
           sw: Any = None, sb: Any = None,
           **common: Any) -> spec_pb2.ExperimentSpec:
    """An MLP (hidden widths ``widths``) on a stationary Ornstein-Uhlenbeck
    path X_t with correlation time tau and stationary std sigma, at the
    times ``times`` (arXiv 2504.05462): reflection positive under t -> -t.
    sw, sb as for ``mlp`` (default sb: first layer 0.5)."""
    times = np.asarray(times, dtype=float).reshape(-1, 1)
    spec = _ex.mlp(widths, times, activation, sw=sw, sb=sb, **common)
    inner = spec_pb2.Mlp()
    inner.CopyFrom(spec.architecture.mlp)
    inner.input_dim = 1
    spec.architecture.ou_net.mlp.CopyFrom(inner)
    _set_optional(spec.architecture.ou_net, tau=tau, sigma=sigma)
    return spec
