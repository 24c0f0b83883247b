'use strict';
// Builders of experiment specs in protobuf's JSON form (the objects
// client.submit takes), so nobody hand-writes nested objects. Field meanings,
// units and ranges: proto/nnft/v1/spec.proto (the server validates them and
// names the field). Enum options take short names in any case ('relu',
// 'RELU', 'ACTIVATION_RELU'); an unknown one throws INVALID_ARGUMENT listing
// the valid names. Points: an array of numbers (d = 1) or of arrays (P x d).
//
// Architectures: mlp, gaussNet, cosNet, phi4Box, conv1d, attention, kan,
// nullCone, ouNet. Analyses (each returns a new spec, the input untouched):
// widthSweep, deformed, insertion, effectiveCoupling, training,
// reflectionPositivity, symmetry, cluster.
//
// Common options of the architecture builders: orders, tuples, seed,
// numNetworks, chunkSize, precision ('float64' | 'float32'),
// integrateOutputLayer, targetStderr, label.

const { NnftError, enumValue, grpc } = require('./util');

// The mlp builder's first-layer bias scale sb[0] when sb is not given: with
// every bias 0 and act(0) = 0 (identity, relu, erf, tanh, gelu, sin) every
// network vanishes at x = 0. The spec's own default (all 0) is sb: 0.
const DEFAULT_FIRST_LAYER_BIAS = 0.5;

function invalid(message) {
  return new NnftError('INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT,
                       message);
}

/** `num` points evenly spaced on the first axis from start to stop. */
function linePoints(num, start = 0, stop = 1, dim = 1) {
  const out = [];
  for (let i = 0; i < num; i++) {
    const x = new Array(dim).fill(0);
    x[0] = num === 1 ? start : start + ((stop - start) * i) / (num - 1);
    out.push(x);
  }
  return out;
}

/** P x d rows from numbers (d = 1) or arrays; throws on ragged input. */
function rows(points, field = 'points') {
  if (!Array.isArray(points) || points.length === 0) {
    throw invalid(`${field}: expected a non-empty array of points`);
  }
  const out = points.map((p) => (Array.isArray(p) ? p.map(Number) :
    [Number(p)]));
  const d = out[0].length;
  if (d === 0 || out.some((p) => p.length !== d)) {
    throw invalid(`${field}: every point needs the same dimension >= 1`);
  }
  return out;
}

/** One number per layer: a number is broadcast to `layers` values. */
function perLayer(values, layers) {
  return Array.isArray(values) ? values.map(Number) :
    new Array(layers).fill(Number(values));
}

function finish(spec, pts, o = {}) {
  spec.points = pts.map((x) => ({ x }));
  const obs = {};
  if (o.orders) obs.orders = [].concat(o.orders);
  if (o.tuples) obs.tuples = o.tuples.map((t) => ({ index: t.slice() }));
  spec.observables = obs;
  const s = { seed: String(o.seed || 0) };
  if (o.numNetworks !== undefined) s.numNetworks = String(o.numNetworks);
  if (o.chunkSize !== undefined) s.chunkSize = o.chunkSize;
  if (o.precision !== undefined) {
    s.precision = enumValue('Precision', o.precision, 'sampling.precision');
  }
  if (o.integrateOutputLayer) s.integrateOutputLayer = true;
  if (o.targetStderr !== undefined) s.targetStderr = o.targetStderr;
  spec.sampling = s;
  if (o.label) spec.label = o.label;
  return spec;
}

function copy(spec) {
  return structuredClone(spec);
}

function setIf(target, o, names) {
  for (const n of names) if (o[n] !== undefined) target[n] = o[n];
  return target;
}

function mlpArch(widths, d, o) {
  const w = [].concat(widths).map(Number);
  const layers = w.length + 1;
  const m = {
    inputDim: d, widths: w,
    activation: enumValue('Activation', o.activation || 'erf', 'activation'),
  };
  if (o.firstBias !== undefined) {
    m.firstBias = enumValue('BiasLaw', o.firstBias, 'firstBias');
  }
  if (o.sw !== undefined) m.sw = perLayer(o.sw, layers);
  let sb = o.sb;
  if (sb === undefined && m.firstBias !== 'BIAS_LAW_UNIFORM_PHASE') {
    sb = [DEFAULT_FIRST_LAYER_BIAS, ...new Array(layers - 1).fill(0)];
  }
  if (sb !== undefined) m.sb = perLayer(sb, layers);
  return m;
}

/**
 * A multi-layer perceptron with hidden widths `widths` (a number or array).
 * Options: activation ('erf'), sw, sb (L + 1 values or one number; default
 * sw all 1, sb (0.5, 0, ..., 0)), firstBias ('gaussian' | 'uniform_phase').
 */
function mlp(widths, points, o = {}) {
  const pts = rows(points);
  return finish({ architecture: { mlp: mlpArch(widths, pts[0].length, o) } },
                pts, o);
}

/** The Gauss-net of arXiv 2008.08601. Options: sw0, sb0, sw1, sb1. */
function gaussNet(width, points, o = {}) {
  const pts = rows(points);
  const g = setIf({ inputDim: pts[0].length, width },
                  o, ['sw0', 'sb0', 'sw1', 'sb1']);
  return finish({ architecture: { gaussNet: g } }, pts, o);
}

/** The phi^4 free cos-net of arXiv 2307.03223. Options: mass, cutoff, sa,
 * boxSide. */
function cosNet(width, points, o = {}) {
  const pts = rows(points);
  const c = setIf({ inputDim: pts[0].length, width },
                  o, ['mass', 'cutoff', 'sa', 'boxSide']);
  return finish({ architecture: { cosNet: c } }, pts, o);
}

/** The box cos-net reweighted by exp(-(lam/4!) int phi^4): options boxSide
 * and lam (required), essWarningFraction, and those of cosNet. */
function phi4Box(width, points, o = {}) {
  if (o.boxSide === undefined || o.lam === undefined) {
    throw invalid('phi4Box: needs boxSide and lam');
  }
  return insertion(cosNet(width, points, o), o.lam, o);
}

/**
 * A 1-D convolutional net with N = channels. Points are sequences flattened
 * as x[t * inChannels + c]. Options: activation ('erf'), sequenceLength
 * (default dimension / inChannels), inChannels (1), kernelSize (3), layers,
 * padding ('circular' | 'zero'), outputPosition (0), sw, sb.
 */
function conv1d(channels, points, o = {}) {
  const pts = rows(points);
  const inChannels = o.inChannels || 1;
  const d = pts[0].length;
  if (o.sequenceLength === undefined && d % inChannels !== 0) {
    throw invalid(`conv1d: point dimension ${d} is not a multiple of ` +
                  `inChannels = ${inChannels}`);
  }
  const c = {
    sequenceLength: o.sequenceLength === undefined ? d / inChannels :
      o.sequenceLength,
    inChannels, kernelSize: o.kernelSize || 3, channels,
    activation: enumValue('Activation', o.activation || 'erf', 'activation'),
    outputPosition: o.outputPosition || 0,
  };
  if (o.layers !== undefined) c.layers = o.layers;
  if (o.padding !== undefined) {
    c.padding = enumValue('Padding', o.padding, 'padding');
  }
  const layers = (o.layers || 1) + 1;
  if (o.sw !== undefined) c.sw = perLayer(o.sw, layers);
  if (o.sb !== undefined) c.sb = perLayer(o.sb, layers);
  return finish({ architecture: { conv1d: c } }, pts, o);
}

/**
 * One softmax self-attention layer with N = heads. Points are sequences of
 * sequenceLength (required) tokens of dimension D = dimension / T. Options:
 * headDim, outputPosition, outputComponent, sq, sk, sv, so, sb.
 */
function attention(heads, points, o = {}) {
  const pts = rows(points);
  const t = o.sequenceLength;
  if (!(t > 0) || pts[0].length % t !== 0) {
    throw invalid(`attention: point dimension ${pts[0].length} is not a ` +
                  `multiple of sequenceLength = ${t}`);
  }
  const a = setIf({
    sequenceLength: t, embedDim: pts[0].length / t, heads,
    outputPosition: o.outputPosition || 0,
    outputComponent: o.outputComponent || 0,
  }, o, ['headDim', 'sq', 'sk', 'sv', 'so', 'sb']);
  return finish({ architecture: { attention: a } }, pts, o);
}

/** A Kolmogorov-Arnold net [d, N, 1] (arXiv 2404.19756). Options: gridSize,
 * splineOrder, gridRange, baseActivation, sa0, sc0, sa1, sc1. */
function kan(width, points, o = {}) {
  const pts = rows(points);
  const k = setIf({ inputDim: pts[0].length, width }, o,
                  ['gridSize', 'splineOrder', 'gridRange', 'sa0', 'sc0',
                   'sa1', 'sc1']);
  if (o.baseActivation !== undefined) {
    k.baseActivation = enumValue('Activation', o.baseActivation,
                                 'baseActivation');
  }
  return finish({ architecture: { kan: k } }, pts, o);
}

/** The null-cone conformal field (arXiv 2409.12222) at points in R^D.
 * Options: law ('sphere' | 'gaussian' | 'radial'), scale, radii,
 * radialWeights. */
function nullCone(points, o = {}) {
  const pts = rows(points);
  const n = setIf({ inputDim: pts[0].length }, o,
                  ['scale', 'radii', 'radialWeights']);
  if (o.law !== undefined) n.law = enumValue('ThetaLaw', o.law, 'law');
  return finish({ architecture: { nullCone: n } }, pts, o);
}

/** An MLP on a stationary Ornstein-Uhlenbeck path (arXiv 2504.05462) at the
 * times `times`. Options: tau, sigma, and those of mlp. */
function ouNet(widths, times, o = {}) {
  const pts = rows(times, 'times');
  if (pts[0].length !== 1) throw invalid('times: one number per point');
  const ou = setIf({ mlp: mlpArch(widths, 1, o) }, o, ['tau', 'sigma']);
  return finish({ architecture: { ouNet: ou } }, pts, o);
}

/** The spec run at each width of `widths` as one experiment. */
function widthSweep(spec, widths) {
  const out = copy(spec);
  out.widthSweep = { widths: widths.map(Number) };
  return out;
}

/** The radially deformed density on an MLP layer: options s, lam, layer. */
function deformed(spec, { s, lam, layer } = {}) {
  const out = copy(spec);
  const arch = out.architecture || {};
  if (!arch.mlp) throw invalid('deformed: needs an mlp architecture');
  arch.mlp.deformation = { s, lambda: lam };
  if (layer !== undefined) arch.mlp.deformation.layer = layer;
  return out;
}

/** The phi^4 insertion on a box cos-net; option essWarningFraction. */
function insertion(spec, lam, o = {}) {
  const out = copy(spec);
  out.insertion = setIf({ lambda: lam }, o, ['essWarningFraction']);
  return out;
}

/** Effective quartic couplings at `cutoffs`; option amputatedVertex. */
function effectiveCoupling(spec, cutoffs = [], o = {}) {
  const out = copy(spec);
  out.effectiveCoupling = { cutoffs: cutoffs.map(Number),
                            amputatedVertex: !!o.amputatedVertex };
  return out;
}

/**
 * The ensemble trained on { x, y } (or generator: { n, seed }), recorded at
 * times. Options: times, eta, method ('gradient_descent' | 'gradient_flow'),
 * tolerance, lastLayerOnly, parameterisation ('ntk'), empiricalNtk,
 * lossHistogram ({ bins, min, max }).
 */
function training(spec, o = {}) {
  const out = copy(spec);
  let data;
  if (o.generator) {
    if (o.x || o.y) throw invalid('training: give x and y or generator');
    data = { generator: { n: o.generator.n, seed: String(o.generator.seed || 0) } };
  } else {
    if (!o.x || !o.y) throw invalid('training: needs x and y (or generator)');
    data = { x: rows(o.x, 'training.data.x').map((x) => ({ x })),
             y: o.y.map(Number) };
  }
  const t = setIf({ data, times: (o.times || [0]).map(Number) }, o,
                  ['eta', 'tolerance', 'lastLayerOnly', 'empiricalNtk',
                   'lossHistogram']);
  if (o.method !== undefined) {
    t.method = enumValue('TrainingMethod', o.method, 'training.method');
  }
  if (o.parameterisation !== undefined) {
    t.parameterisation = enumValue('Parameterisation', o.parameterisation,
                                   'training.parameterisation');
  }
  out.training = t;
  return out;
}

/** Reflection positivity at `points` (x[axis] > 0). Options: axis,
 * includeFourPoint, zThreshold. */
function reflectionPositivity(spec, points, o = {}) {
  const out = copy(spec);
  out.reflectionPositivity = setIf({
    axis: o.axis || 0, points: rows(points).map((x) => ({ x })),
  }, o, ['includeFourPoint', 'zThreshold']);
  return out;
}

const TRANSFORMS = ['rotation', 'translation', 'reflectionAxis',
                    'phiSignFlip', 'outputRotation', 'coordinatePermutation'];

/** Adds one symmetry check: exactly one of rotation (matrix), translation,
 * reflectionAxis, phiSignFlip, outputRotation, coordinatePermutation;
 * option label. */
function symmetry(spec, o = {}) {
  const given = TRANSFORMS.filter((k) => o[k] !== undefined && o[k] !== false);
  if (given.length !== 1) {
    throw invalid(`symmetry: give exactly one of ${TRANSFORMS.join(', ')} ` +
                  `(got ${given.join(', ') || 'none'})`);
  }
  const k = given[0];
  const check = { label: o.label || '' };
  if (k === 'rotation' || k === 'outputRotation') {
    check[k] = { values: o[k].flat().map(Number) };
  } else if (k === 'translation') {
    check.translation = { x: [].concat(o.translation).map(Number) };
  } else if (k === 'coordinatePermutation') {
    check.coordinatePermutation = { index: o[k].slice() };
  } else if (k === 'phiSignFlip') {
    check.phiSignFlip = true;
  } else {
    check.reflectionAxis = o.reflectionAxis;
  }
  const out = copy(spec);
  out.symmetryChecks = [...(out.symmetryChecks || []), check];
  return out;
}

/** Adds a cluster check of G4(x_i, x_j, x_k + s u, x_l + s u); points are
 * the indices i, j, k, l. Options: component, label. */
function cluster(spec, points, direction, separations, o = {}) {
  const out = copy(spec);
  const c = { label: o.label || '', points: points.slice(),
              component: o.component || 0,
              direction: [].concat(direction).map(Number),
              separations: separations.map(Number) };
  out.clusterChecks = [...(out.clusterChecks || []), c];
  return out;
}

module.exports = {
  DEFAULT_FIRST_LAYER_BIAS, attention, cluster, conv1d, cosNet, deformed,
  effectiveCoupling, gaussNet, insertion, kan, linePoints, mlp, nullCone,
  ouNet, phi4Box, reflectionPositivity, symmetry, training, widthSweep,
};
