'use strict';
// A job's result reassembled from the GetResult stream (one header, entry
// blocks in order, kernel row blocks) as Float64Arrays over the requested
// tuples, and the progress snapshots a watcher sees. No arithmetic is done on
// the server's values.

const { num, padded } = require('./util');
const {
  conformalResult, effectiveCouplingResult, reflectionResult, trainingFlow,
} = require('./analyses');

const ENTRY = {
  mean: 'mean', stderr: 'stderr', connected: 'connected',
  connectedStderr: 'connected_stderr',
};
const THEORY = {
  gp: 'gp', gpConnected: 'gp_connected', exact: 'exact',
  exactConnected: 'exact_connected',
};
const Z = { zExact: 'z_exact', zExactConnected: 'z_exact_connected',
            zGp: 'z_gp' };
// phi^4 reweighting (spec.insertion): per-entry arrays beside the reweighted
// mean/stderr; NaN for jobs without an insertion.
const REWEIGHT = {
  freeMean: 'free_mean', freeStderr: 'free_stderr', shift: 'shift',
  shiftStderr: 'shift_stderr', firstOrderShift: 'first_order_shift',
};

// 'HEAVY_TAILED' for VERDICT_HEAVY_TAILED (enums arrive as names or numbers).
const VERDICTS = ['', 'OK', 'FEW_BINS', 'HEAVY_TAILED', 'NO_ERROR'];
function verdictName(r) {
  if (!r) return '';
  const v = r.verdict;
  if (typeof v === 'number') return VERDICTS[v] || '';
  return v === 'VERDICT_UNSPECIFIED' ? '' : String(v).replace(/^VERDICT_/, '');
}

function comparison(c) {
  return c ? { chi2: c.chi2, dof: c.dof, chi2PerDof: c.chi2_per_dof,
               maxAbsZ: c.max_abs_z } : null;
}

class Result {
  /**
   * @param {object[]} pieces ResultPiece messages in stream order.
   * @param {object} [spec] the submitted spec, used when the header leaves
   *   out a spec over 128 KiB.
   */
  constructor(pieces, spec = null) {
    let header = null;
    const blocks = [];
    const kernelBlocks = [];
    const sweepBlocks = [];
    const sweepFits = [];
    const trainingRows = [];
    let ntk = null;
    for (const p of pieces) {
      if (p.piece === 'header') header = p.header;
      else if (p.piece === 'entries') blocks.push(p.entries);
      else if (p.piece === 'kernel') kernelBlocks.push(p.kernel);
      else if (p.piece === 'sweep_width') sweepBlocks.push(p.sweep_width);
      else if (p.piece === 'sweep_fits') sweepFits.push(...p.sweep_fits.fits);
      else if (p.piece === 'training_time') trainingRows.push(p.training_time);
      else if (p.piece === 'empirical_ntk') ntk = p.empirical_ntk;
    }
    if (!header) throw new Error('GetResult stream carried no header');
    this._setHeader(header);
    this.tuples = [];
    const cols = {};
    for (const k of [...Object.keys(ENTRY), ...Object.keys(THEORY),
                     ...Object.keys(Z), ...Object.keys(REWEIGHT)]) cols[k] = [];
    for (const b of blocks) {
      if (num(b.offset) !== this.tuples.length) {
        throw new Error(`result entry block at offset ${b.offset}, ` +
                        `expected ${this.tuples.length}`);
      }
      const n = b.estimate.tuples.length;
      this.tuples.push(...b.estimate.tuples.map((t) => t.index.slice()));
      for (const [k, f] of Object.entries(ENTRY)) {
        cols[k].push(...padded(b.estimate[f], n));
      }
      for (const [k, f] of Object.entries(THEORY)) {
        cols[k].push(...padded(b.theory ? b.theory[f] : [], n));
      }
      for (const [k, f] of Object.entries(Z)) cols[k].push(...padded(b[f], n));
      for (const [k, f] of Object.entries(REWEIGHT)) {
        cols[k].push(...padded(b.reweight ? b.reweight[f] : [], n));
      }
    }
    for (const [k, v] of Object.entries(cols)) this[k] = Float64Array.from(v);
    // Per entry: can its error bar be trusted ('OK', 'FEW_BINS',
    // 'HEAVY_TAILED', 'NO_ERROR'; '' from a server that sends none), why,
    // and the diagnostics (EntryReliability: dof, t95, skewness_z, ...).
    this.reliability = [];
    for (const b of blocks) {
      const rel = b.estimate.reliability || [];
      const n = b.estimate.tuples.length;
      for (let i = 0; i < n; ++i) this.reliability.push(rel[i] || null);
    }
    this.verdict = this.reliability.map((r) => verdictName(r));
    this.verdictReason = this.reliability.map((r) => (r ? r.reason : ''));
    this.orders = this.tuples.map((t) => t.length);
    const p = header.num_points;
    this.kernel = new Float64Array(p * p).fill(NaN);  // row-major P x P
    for (const kb of kernelBlocks) this.kernel.set(kb.values, kb.row_offset * p);
    const own = header.job && header.job.spec;
    this.spec = own && own.points.length ? own : (spec || own);
    this.points = (this.spec ? this.spec.points : []).map((pt) => pt.x.slice());
    this.sweep = header.width_sweep ?
      sweepResult(header.width_sweep, sweepBlocks, sweepFits) : null;
    this._setTraining(header, trainingRows, ntk);
  }

  _setTraining(header, rows, ntk) {
    this.kind = header.training_times ? 'training' : 'correlators';
    this.training = null;
    if (this.kind !== 'training') return;
    if (rows.length !== header.training_times) {
      throw new Error(`result has ${rows.length} training rows; header ` +
                      `says ${header.training_times}`);
    }
    this.training = trainingFlow(rows, ntk, header.training_theory_method);
  }

  _setHeader(h) {
    this.job = h.job;
    this.name = h.job ? h.job.name : '';
    this.numEntries = num(h.num_entries);
    this.numPoints = h.num_points;
    this.networks = num(h.networks);
    this.chunks = num(h.chunks);
    this.bins = num(h.bins);
    this.seed = h.seed;  // decimal string: a uint64
    this.theoryMethod = h.theory_method;
    this.hasExact = h.has_exact;
    // exact* is finite-width theory at leading order in 1/width (deep MLPs),
    // not exact: zExact also measures O(1/width^2) terms.
    this.theoryLeadingOrder = Boolean(h.theory_leading_order);
    this.vsExact = comparison(h.vs_exact);
    this.vsGp = comparison(h.vs_gp);
    this.vsExactConnected = comparison(h.vs_exact_connected);
    this.engineFingerprint = h.engine_fingerprint;
    // ReweightSummary as sent (snake_case: ess, ess_fraction, ess_warning,
    // warning, ...), or null.
    this.reweight = h.reweight || null;
    this.effectiveCoupling = effectiveCouplingResult(h.effective_coupling);
    this.conformal = conformalResult(h.conformal);
    this.reflection = reflectionResult(h.reflection_positivity);
    // Symmetry and cluster checks (spec.symmetry_checks, cluster_checks), in
    // the spec's order; empty for specs without them.
    this.symmetry = (h.symmetry || []).map(symmetryResult);
    this.cluster = (h.cluster || []).map(clusterResult);
  }

  /** Position of a tuple (indices in any order), or -1. */
  indexOf(tuple) {
    const key = [...tuple].sort((a, b) => a - b).join(',');
    return this.tuples.findIndex(
      (t) => [...t].sort((a, b) => a - b).join(',') === key);
  }

  get length() {
    return this.tuples.length;
  }
}

/** A SymmetryResult message with camelCase names and Float64Arrays. */
function symmetryResult(r) {
  return {
    label: r.label, kind: r.kind,
    tuples: (r.tuples || []).map((t) => t.index.slice()),
    difference: Float64Array.from(r.difference || []),
    stderr: Float64Array.from(r.stderr || []),
    z: Float64Array.from(r.z || []),
    chi2: r.chi2, dof: r.dof, chi2PerDof: r.chi2_per_dof,
    maxAbsZ: r.max_abs_z, zThreshold: r.z_threshold,
    consistent: r.consistent, numTuples: num(r.num_tuples || 0),
    // Hotelling's T^2 and its p-value (uniform under an exact invariance).
    hotellingT2: r.hotelling_t2, pValue: r.p_value,
  };
}

function decayFit(f) {
  return f ? { model: f.model, amplitude: f.amplitude, scale: f.scale,
               scaleStderr: f.scale_stderr, chi2PerDof: f.chi2_per_dof,
               points: f.points } : null;
}

/** A ClusterResult message with camelCase names and Float64Arrays. */
function clusterResult(r) {
  return {
    label: r.label,
    separations: Float64Array.from(r.separations || []),
    value: Float64Array.from(r.value || []),
    stderr: Float64Array.from(r.stderr || []),
    theory: Float64Array.from(r.theory || []),
    theoryKind: r.theory_kind,
    zTheory: Float64Array.from(r.z_theory || []),
    exponential: decayFit(r.exponential), gaussian: decayFit(r.gaussian),
    power: decayFit(r.power), preferred: r.preferred, zLast: r.z_last,
  };
}

/** A PowerLawFit message as a plain object with camelCase names. */
function powerLawFit(f) {
  return {
    tuple: f.tuple.index.slice(), order: f.order, exponent: f.exponent,
    exponentStderr: f.exponent_stderr, amplitude: f.amplitude,
    amplitudeStderr: f.amplitude_stderr, chi2: f.chi2, dof: f.dof,
    chi2PerDof: f.chi2_per_dof, widthsUsed: f.widths_used,
    widthsDropped: f.widths_dropped, expectedExponent: f.expected_exponent,
    z: f.z,
  };
}

/**
 * A width sweep's result: `widths` (ascending) and, per width, `perWidth[w]`
 * with Float64Arrays over the tuples (mean, stderr, connected,
 * connectedStderr, exact, exactConnected, gp, zExact, zExactConnected, zGp,
 * deviation, deviationBackground); `fits` the power laws |G_c| = A N^s.
 */
function sweepResult(summary, blocks, fits) {
  const widths = summary.widths.slice();
  const perWidth = widths.map((width) => {
    const cols = { width, tuples: [], deviation: [], deviationBackground: [] };
    for (const k of [...Object.keys(ENTRY), ...Object.keys(THEORY),
                     ...Object.keys(Z)]) cols[k] = [];
    return cols;
  });
  for (const b of blocks) {
    const w = perWidth[b.width_index];
    const e = b.entries;
    if (num(e.offset) !== w.tuples.length) {
      throw new Error(`sweep block of width ${b.width} at offset ${e.offset}`);
    }
    const n = e.estimate.tuples.length;
    w.tuples.push(...e.estimate.tuples.map((t) => t.index.slice()));
    for (const [k, f] of Object.entries(ENTRY)) w[k].push(...padded(e.estimate[f], n));
    for (const [k, f] of Object.entries(THEORY)) {
      w[k].push(...padded(e.theory ? e.theory[f] : [], n));
    }
    for (const [k, f] of Object.entries(Z)) w[k].push(...padded(e[f], n));
    w.deviation.push(...padded(b.deviation, n));
    w.deviationBackground.push(...padded(b.deviation_background, n));
  }
  for (const w of perWidth) {
    for (const [k, v] of Object.entries(w)) {
      if (k !== 'width' && k !== 'tuples') w[k] = Float64Array.from(v);
    }
  }
  if (fits.length !== num(summary.num_fits)) {
    throw new Error(`sweep result has ${fits.length} fits; header says ` +
                    `${summary.num_fits}`);
  }
  return { widths, perWidth, fits: fits.map(powerLawFit),
           fitMethod: summary.fit_method };
}

class Snapshot {
  /** @param {object} update a JobUpdate message. */
  constructor(update) {
    const job = update.job;
    const p = job.progress || {};
    this.job = job;
    this.state = job.state;
    this.chunksDone = num(p.chunks_done || 0);
    this.chunksTotal = num(p.chunks_total || 0);
    this.networksDone = num(p.networks_done || 0);
    this.networksTotal = num(p.networks_total || 0);
    this.maxStderr = update.max_stderr;
    const est = update.estimate || { tuples: [], mean: [], stderr: [] };
    this.tuples = est.tuples.map((t) => t.index.slice());
    this.mean = Float64Array.from(est.mean);
    this.stderr = Float64Array.from(est.stderr);
    // Width sweeps: widths with an estimate so far, and the fits so far.
    const sweep = update.width_sweep;
    this.sweepWidths = sweep ? sweep.blocks.map((b) => b.width) : [];
    this.sweepFits = sweep ? sweep.fits.map(powerLawFit) : [];
    // Training jobs: the flow so far (all recorded times, first 8 points).
    this.training = update.training && update.training.length ?
      trainingFlow(update.training) : null;
    // Reweighted jobs: the weights' summary so far (snake_case), or null.
    this.reweight = update.reweight || null;
  }

  get fraction() {
    return this.chunksTotal ? this.chunksDone / this.chunksTotal : 0;
  }
}

module.exports = { Result, Snapshot };
