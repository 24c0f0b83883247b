'use strict';
// The newer result kinds through the Node client against a real nnft-server:
// the null-cone conformal field, reflection positivity and the training flow
// (watched rows and the final result), against exact theory where the server
// has it and by structure otherwise.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');
const { Client } = require('..');
const { serverBinary, startServer } = require('./server');

const skip = serverBinary() ? false : 'NNFT_SERVER_BINARY not set';
const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'deploy', 'examples');
const Z_MAX = 5;  // standard errors allowed against exact values

function example(name, networks) {
  const spec = JSON.parse(fs.readFileSync(path.join(EXAMPLES, name), 'utf8'));
  spec.sampling.numNetworks = String(networks);
  return spec;
}

const TIMES = [0, 1, 4, 40];
const NETWORKS = 512;

/** A small erf net trained by gradient descent on 3 points in d = 1. */
function trainingSpec() {
  return {
    label: 'node-training',
    architecture: { mlp: { inputDim: 1, widths: [64], activation: 'ACTIVATION_ERF',
                           sw: [1.5, 1.0], sb: [0.3, 0.1] } },
    points: [{ x: [0.2] }, { x: [0.7] }],
    training: {
      data: { x: [{ x: [-1.0] }, { x: [0.2] }, { x: [1.1] }], y: [0.3, -0.5, 0.8] },
      eta: 0.5, times: TIMES, empiricalNtk: true,
      lossHistogram: { bins: 24, min: 1e-4, max: 1e2 },
    },
    sampling: { seed: '3', numNetworks: String(NETWORKS), chunkSize: 32 },
  };
}

function assertWithin(value, exact, stderr, what) {
  assert.ok(Number.isFinite(value) && Number.isFinite(exact) && stderr > 0,
            `${what}: ${value} vs ${exact} +- ${stderr}`);
  assert.ok(Math.abs(value - exact) < Z_MAX * stderr,
            `${what}: ${value} vs exact ${exact} (stderr ${stderr})`);
}

describe('newer result kinds', { skip }, () => {
  let server;
  let client;

  before(async () => {
    server = await startServer();
    client = new Client(server.address);
  });

  after(async () => {
    client.close();
    assert.equal(await server.stop(), 0, server.log);
  });

  test('null-cone field in D = 4: g(u, v) against the exact function', async () => {
    const job = await client.submit(example('null_cone_d4.json', 40000));
    const r = await job.result({ timeoutMs: 120000 });
    const c = r.conformal;
    assert.ok(c, 'result has a conformal part');
    assert.equal(r.reflection, null);
    assert.equal(c.dimension, 4);
    assert.equal(c.mu4.exact, 3 / 48);  // 3 / (n (n + 2)), n = 6
    // |Theta| = 1 on S^5: E[Theta_1^2] = 1/6 for every sample.
    assert.ok(Math.abs(c.mu2.value - 1 / 6) < 1e-12, `mu2 ${c.mu2.value}`);
    assertWithin(c.mu4.value, c.mu4.exact, c.mu4.stderr, 'mu4');
    assert.equal(c.fourPoint.length, 15);  // C(6, 4)
    assert.equal(c.twoPoint.length, 15);   // C(6, 2)
    for (const k of ['u', 'v', 'g', 'gStderr', 'gExact', 'g4', 'g4Exact']) {
      assert.ok(c[k] instanceof Float64Array && c[k].length === 15, k);
    }
    for (let i = 0; i < 15; i++) {
      // D = 4 sphere law: g = (1/48) (1 + 1/u + v/u).
      const g = (1 + 1 / c.u[i] + c.v[i] / c.u[i]) / 48;
      assert.ok(Math.abs(c.gExact[i] - g) < 1e-12 * g, `g_exact[${i}]`);
      assertWithin(c.g[i], g, c.gStderr[i], `g[${i}]`);
      assertWithin(c.g4[i], c.g4Exact[i], c.g4Stderr[i], `g4[${i}]`);
      assert.deepEqual(c.fourPoint[i].g.value, c.g[i]);
    }
    assert.equal(c.checks.length, 5);
    for (const k of c.checks) assert.ok(k.passed, k.transformation);
  });

  test('reflection positivity of a cutoff cos-net is violated as exact', async () => {
    const job = await client.submit(example('rp_cutoff_cos_net.json', 20000));
    const r = await job.result({ timeoutMs: 120000 });
    const rp = r.reflection;
    assert.ok(rp, 'result has a reflection-positivity part');
    assert.equal(rp.points.length, 4);
    assert.equal(rp.fourPoint, null);
    const m = rp.twoPoint;
    assert.equal(m.size, 4);
    assert.equal(m.matrix.length, 16);
    assert.equal(m.eigenvalues.length, 4);
    assert.equal(m.eigenvalueStderr.length, 4);
    for (let i = 1; i < 4; i++) assert.ok(m.eigenvalues[i] >= m.eigenvalues[i - 1]);
    assert.equal(m.minEigenvalue, m.eigenvalues[0]);
    assert.equal(m.verdict, 'violated');
    assert.ok(m.hasExact);
    assert.ok(m.exactEigenvalues[0] < -0.02);
    assertWithin(m.minEigenvalue, m.exactEigenvalues[0], m.minStderr,
                 'smallest eigenvalue');
    assert.equal(m.exactMatrix.length, 16);
  });

  test('training flow: watched rows, final rows, exact t = 0 law', async () => {
    const job = await client.submit(trainingSpec());
    const watched = [];
    for await (const s of job.watch({ timeoutMs: 120000 })) {
      if (s.training) watched.push(s.training);
    }
    assert.ok(watched.length > 0, 'watch streamed training rows');
    for (const w of watched) assert.deepEqual([...w.t], TIMES);
    const r = await job.result({ timeoutMs: 120000 });
    assert.equal(r.kind, 'training');
    const flow = r.training;
    assert.deepEqual([...flow.t], TIMES);
    assert.equal(flow.numPoints, 2);
    assert.equal(flow.times.length, 4);
    const last = watched.at(-1);
    assert.deepEqual([...last.lossMean], [...flow.lossMean]);
    for (const row of flow.times) {
      assert.equal(row.mu.length, 2);
      assert.equal(row.sigma.length, 4);
      assert.ok(row.muTheory.every(Number.isFinite));
      assert.ok(row.sigmaStderr.every((e) => e > 0));
    }
    // At t = 0 a one-hidden-layer net has exactly the GP's mean (0) and
    // covariance (the NNGP kernel) at any width.
    const t0 = flow.times[0];
    for (let p = 0; p < 2; p++) {
      assertWithin(t0.mu[p], 0, t0.muStderr[p], `mu_0[${p}]`);
      assert.equal(t0.muTheory[p], 0);
    }
    for (let i = 0; i < 4; i++) {
      assertWithin(t0.sigma[i], t0.sigmaTheory[i], t0.sigmaStderr[i],
                   `sigma_0[${i}]`);
    }
    // Point 0 is a training point (y = -0.5): the mean moves onto it.
    assert.ok(Math.abs(flow.times[3].mu[0] + 0.5) < 0.05, `${flow.times[3].mu}`);
    assert.ok(flow.lossMean[3] < flow.lossMean[0]);
    // The loss histogram: every network counted once; the counts bracket the
    // mean loss (each loss lies between its bin's edges).
    for (const row of flow.times) {
      const h = row.lossHistogram;
      assert.ok(h, `histogram at t = ${row.t}`);
      assert.equal(h.edges.length, 25);
      assert.equal(h.counts.length, 24);
      const total = h.underflow + h.overflow + h.counts.reduce((a, b) => a + b, 0);
      assert.equal(total, NETWORKS);
      assert.equal(h.overflow, 0);
      let low = 0;
      let high = h.underflow * h.edges[0];
      for (let k = 0; k < 24; k++) {
        low += h.counts[k] * h.edges[k];
        high += h.counts[k] * h.edges[k + 1];
      }
      const sum = row.lossMean * NETWORKS;
      assert.ok(low <= sum * (1 + 1e-12) && sum <= high * (1 + 1e-12),
                `${low} <= ${sum} <= ${high}`);
      assert.deepEqual([...h.quantileLevels], [0.05, 0.25, 0.5, 0.75, 0.95]);
      assert.equal(h.quantiles.length, 5);
    }
    assert.ok(last.times[0].lossHistogram, 'watched rows carry the histogram');
    const ntk = flow.empiricalNtk;
    assert.equal(ntk.numPoints, 2);
    for (let i = 0; i < 4; i++) {
      assertWithin(ntk.mean[i], ntk.theory[i], ntk.stderr[i], `ntk[${i}]`);
    }
  });
  test('symmetry checks: rotation holds, translation breaks; paired differences', async () => {
    // Isotropic first layer in d = 3: rotations, permutations and reflections
    // of the inputs leave every correlator unchanged; the bias makes the net
    // not translation invariant.
    const job = await client.submit(example('rotation_erf_3d.json', 20000));
    const r = await job.result({ timeoutMs: 180000 });
    assert.equal(r.symmetry.length, 4);
    assert.deepEqual(r.symmetry.map((c) => c.kind),
                     ['rotation', 'coordinate_permutation', 'reflection', 'translation']);
    for (const c of r.symmetry) {
      assert.ok(c.dof > 0 && c.numTuples > 0, `${c.label}: dof ${c.dof}`);
      assert.equal(c.tuples.length, c.numTuples);
      assert.equal(c.difference.length, c.numTuples);
      assert.equal(c.stderr.length, c.numTuples);
      for (let i = 0; i < c.numTuples; i++) {
        assert.ok(c.stderr[i] > 0, `${c.label} stderr[${i}]`);
        assert.ok(Math.abs(c.z[i] - c.difference[i] / c.stderr[i]) < 1e-9 * Math.abs(c.z[i]) + 1e-12);
      }
      assert.equal(c.consistent, c.maxAbsZ <= c.zThreshold, c.label);
      // The joint test over the differences' covariance agrees at 1% where
      // it is defined (fewer entries than bins).
      if (c.dof < r.bins) {
        assert.ok(c.hotellingT2 > 0, `${c.label}: T^2 ${c.hotellingT2}`);
        assert.equal(c.pValue > 0.01, c.consistent, `${c.label}: p ${c.pValue}`);
      } else {
        assert.ok(Number.isNaN(c.pValue), `${c.label}: dof ${c.dof} >= bins ${r.bins}`);
      }
    }
    for (const c of r.symmetry.slice(0, 3)) assert.ok(c.consistent, `${c.label}: max |z| ${c.maxAbsZ}`);
    assert.ok(!r.symmetry[3].consistent, `translation: max |z| ${r.symmetry[3].maxAbsZ}`);
    assert.deepEqual(r.cluster, []);
  });

  test('cluster check of a Gauss-net: D(s) against finite-width theory', async () => {
    const job = await client.submit(example('cluster_gauss_net.json', 20000));
    const r = await job.result({ timeoutMs: 180000 });
    assert.equal(r.cluster.length, 1);
    const c = r.cluster[0];
    assert.deepEqual([...c.separations], [0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5]);
    assert.equal(c.theoryKind, 'finite width');
    for (let i = 0; i < c.separations.length; i++) {
      assertWithin(c.value[i], c.theory[i], c.stderr[i], `D(${c.separations[i]})`);
      assert.ok(Math.abs(c.zTheory[i] - (c.value[i] - c.theory[i]) / c.stderr[i]) < 1e-6);
    }
    assert.ok(['exponential', 'gaussian', 'power'].includes(c.preferred), c.preferred);
    const fit = c[c.preferred];
    assert.ok(fit && fit.model === c.preferred && fit.points >= 2, JSON.stringify(fit));
    assert.deepEqual(r.symmetry, []);
  });
});
