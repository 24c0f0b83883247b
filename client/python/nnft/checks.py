"""Symmetry and cluster check results (ResultHeader.symmetry, .cluster).

Each symmetry check compares every requested correlator at transformed
slots with the original, from the same networks: ``difference`` is
G(t') - G(t) per tuple with its paired error; ``consistent`` is the verdict
(max |z| under the Bonferroni threshold ``z_threshold``). A cluster check
holds D(s) = G4(xi, xj, xk + s u, xl + s u) - G2 G2 against the separation
with its exact value where known and three decay fits.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class SymmetryResult:
    label: str
    kind: str
    tuples: list
    difference: np.ndarray
    stderr: np.ndarray
    z: np.ndarray
    chi2: float
    dof: int
    chi2_per_dof: float
    max_abs_z: float
    z_threshold: float
    consistent: bool
    num_tuples: int
    # Hotelling's T^2 of the differences over their covariance, and its
    # p-value: uniform under an exact invariance (chi2 is not chi^2(dof):
    # the entries share networks). NaN when dof >= the number of bins.
    hotelling_t2: float
    p_value: float

    @classmethod
    def from_proto(cls, m):
        return cls(m.label, m.kind, [tuple(t.index) for t in m.tuples],
                   np.array(m.difference, dtype=float),
                   np.array(m.stderr, dtype=float),
                   np.array(m.z, dtype=float), m.chi2, m.dof,
                   m.chi2_per_dof, m.max_abs_z, m.z_threshold,
                   m.consistent, m.num_tuples, m.hotelling_t2, m.p_value)


@dataclasses.dataclass(frozen=True)
class DecayFit:
    model: str
    amplitude: float
    scale: float
    scale_stderr: float
    chi2_per_dof: float
    points: int

    @classmethod
    def from_proto(cls, m):
        return cls(m.model, m.amplitude, m.scale, m.scale_stderr,
                   m.chi2_per_dof, m.points)


@dataclasses.dataclass(frozen=True)
class ClusterResult:
    label: str
    separations: np.ndarray
    value: np.ndarray
    stderr: np.ndarray
    theory: np.ndarray
    theory_kind: str
    z_theory: np.ndarray
    exponential: DecayFit
    gaussian: DecayFit
    power: DecayFit
    preferred: str
    z_last: float

    @classmethod
    def from_proto(cls, m):
        arr = lambda f: np.array(f, dtype=float)  # noqa: E731
        return cls(m.label, arr(m.separations), arr(m.value), arr(m.stderr),
                   arr(m.theory), m.theory_kind, arr(m.z_theory),
                   DecayFit.from_proto(m.exponential),
                   DecayFit.from_proto(m.gaussian),
                   DecayFit.from_proto(m.power), m.preferred, m.z_last)
