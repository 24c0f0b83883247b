'use strict';
// The result kinds beside the correlator entries, as plain objects with
// camelCase names and Float64Arrays: the null-cone conformal field
// (ConformalResult), reflection positivity (ReflectionPositivityResult), the
// training flow (TrainingTime rows and the empirical NTK) and effective
// couplings (EffectiveCouplingResult). Values are the server's, unchanged.

const { num } = require('./util');

const f64 = (a) => Float64Array.from(a || []);

/** A Measured message: { value, stderr, exact } (exact NaN if unknown). */
function measured(m) {
  return m ? { value: m.value, stderr: m.stderr, exact: m.exact } :
    { value: NaN, stderr: NaN, exact: NaN };
}

/**
 * ConformalResult -> moments, two- and four-point lists, the four-point
 * columns u, v, g, gStderr, gExact, g4, g4Stderr, g4Exact, g4Connected,
 * g4ConnectedStderr, g4ConnectedExact (Float64Arrays over fourPoint), and the
 * conformal covariance checks.
 */
function conformalResult(c) {
  if (!c) return null;
  const fourPoint = c.four_point.map((q) => ({
    index: q.index.slice(), u: q.u, v: q.v, g4: measured(q.g4),
    g4Connected: measured(q.g4_connected), g: measured(q.g),
  }));
  const col = (pick) => Float64Array.from(fourPoint, pick);
  return {
    dimension: c.dimension,
    mu2: measured(c.mu2),
    mu4: measured(c.mu4),
    mu4Mixed: measured(c.mu4_mixed),
    twoPoint: c.two_point.map((t) => ({ i: t.i, j: t.j, g2: measured(t.g2) })),
    fourPoint,
    twoPointOmitted: num(c.two_point_omitted),
    fourPointOmitted: num(c.four_point_omitted),
    u: col((q) => q.u),
    v: col((q) => q.v),
    g: col((q) => q.g.value),
    gStderr: col((q) => q.g.stderr),
    gExact: col((q) => q.g.exact),
    g4: col((q) => q.g4.value),
    g4Stderr: col((q) => q.g4.stderr),
    g4Exact: col((q) => q.g4.exact),
    g4Connected: col((q) => q.g4Connected.value),
    g4ConnectedStderr: col((q) => q.g4Connected.stderr),
    g4ConnectedExact: col((q) => q.g4Connected.exact),
    checks: c.checks.map((k) => ({
      transformation: k.transformation, dof: k.dof,
      chi2PerDof: k.chi2_per_dof, maxAbsZ: k.max_abs_z, passed: k.passed,
      note: k.note,
    })),
  };
}

/** An RpMatrix message (matrices row-major size x size). */
function rpMatrix(m) {
  if (!m) return null;
  return {
    size: m.size, matrix: f64(m.matrix), eigenvalues: f64(m.eigenvalues),
    eigenvalueStderr: f64(m.eigenvalue_stderr),
    minEigenvalue: m.min_eigenvalue, minStderr: m.min_stderr, z: m.z,
    verdict: m.verdict, pNegative: m.p_negative, hasExact: m.has_exact,
    exactMatrix: f64(m.exact_matrix),
    exactEigenvalues: f64(m.exact_eigenvalues),
  };
}

/** ReflectionPositivityResult -> { axis, zThreshold, points, twoPoint, fourPoint }. */
function reflectionResult(r) {
  if (!r) return null;
  return {
    axis: r.axis, zThreshold: r.z_threshold,
    points: r.points.map((p) => p.x.slice()),
    twoPoint: rpMatrix(r.two_point), fourPoint: rpMatrix(r.four_point),
  };
}

/** EffectiveCouplingResult -> lambda(cutoff) with errors, slope, vertex. */
function effectiveCouplingResult(e) {
  if (!e) return null;
  return {
    cutoffs: f64(e.cutoffs), lambda: f64(e.lambda),
    lambdaStderr: f64(e.lambda_stderr), tuplesUsed: e.tuples_used.slice(),
    slope: e.slope, slopeStderr: e.slope_stderr,
    vertexTuples: e.vertex_tuples.map((t) => t.index.slice()),
    vertex: f64(e.vertex), vertexStderr: f64(e.vertex_stderr),
    method: e.method, error: e.error,
  };
}

/** The loss histogram of a TrainingTime row, or null when not requested. */
function lossHistogram(r) {
  if (!r.loss_histogram_edges || !r.loss_histogram_edges.length) return null;
  return {
    edges: f64(r.loss_histogram_edges),
    counts: Float64Array.from(r.loss_histogram_counts, num),
    underflow: num(r.loss_histogram_underflow),
    overflow: num(r.loss_histogram_overflow),
    quantileLevels: f64(r.loss_quantile_levels),
    quantiles: f64(r.loss_quantiles),
  };
}

/**
 * One TrainingTime message: mu (P), sigma (P x P row-major) with errors and
 * the infinite-width theory, and the loss (mean, error, spread, histogram).
 */
function trainingTime(r) {
  return {
    index: r.index, t: r.t, lossMean: r.loss_mean,
    lossStderr: r.loss_stderr, lossStd: r.loss_std,
    numPoints: r.num_points, mu: f64(r.mu), muStderr: f64(r.mu_stderr),
    muTheory: f64(r.mu_theory), sigma: f64(r.sigma),
    sigmaStderr: f64(r.sigma_stderr), sigmaTheory: f64(r.sigma_theory),
    lossHistogram: lossHistogram(r),
  };
}

/**
 * The training flow: `times` (rows ordered by index), the columns t,
 * lossMean, lossStderr, lossStd (Float64Arrays over the rows), the theory
 * method and the empirical NTK at initialisation (or null).
 */
function trainingFlow(messages, ntk = null, theoryMethod = '') {
  const times = messages.map(trainingTime).sort((a, b) => a.index - b.index);
  const col = (k) => Float64Array.from(times, (r) => r[k]);
  return {
    theoryMethod, times, t: col('t'), lossMean: col('lossMean'),
    lossStderr: col('lossStderr'), lossStd: col('lossStd'),
    numPoints: times.length ? times[0].numPoints : 0,
    empiricalNtk: ntk ? {
      numPoints: ntk.num_points, mean: f64(ntk.mean), stderr: f64(ntk.stderr),
      std: f64(ntk.std), theory: f64(ntk.theory),
    } : null,
  };
}

module.exports = {
  conformalResult, effectiveCouplingResult, reflectionResult, trainingFlow,
};
