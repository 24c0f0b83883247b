'use strict';
// The Node client against a real nnft-server on a real port (node --test).

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const { after, before, describe, test } = require('node:test');
const { Client, NnftError } = require('..');
const { serverBinary, startServer } = require('./server');

const skip = serverBinary() ? false : 'NNFT_SERVER_BINARY not set';

// Same experiment as the Python suite: erf net, d = 1, three points, 8 chunks.
function smallSpec(seed = 21) {
  return {
    architecture: { mlp: { inputDim: 1, widths: [32], activation: 'ACTIVATION_ERF',
                           sw: [1.0, 1.5], sb: [0.2, 0.1] } },
    points: [{ x: [0.0] }, { x: [0.6] }, { x: [1.2] }],
    observables: { orders: [2, 4] },
    sampling: { seed: String(seed), numNetworks: '4000', chunkSize: 500 },
    label: 'node-test',
  };
}

function longSpec() {
  const points = [];
  for (let i = 0; i < 8; i++) points.push({ x: [0.25 * i] });
  return {
    architecture: { mlp: { inputDim: 1, widths: [2048], activation: 'ACTIVATION_TANH' } },
    points,
    observables: { orders: [2] },
    sampling: { seed: '5', numNetworks: String(1 << 26), chunkSize: 1000 },
  };
}

/** Raw GetResult through the generated stub: [tuples, {mean, stderr, ...}]. */
async function rawResult(client, name) {
  const cols = { mean: [], stderr: [], connected: [], exact: [], gp: [] };
  const tuples = [];
  for await (const p of client._stub.GetResult({ name })) {
    if (p.piece !== 'entries') continue;
    const e = p.entries;
    tuples.push(...e.estimate.tuples.map((t) => t.index));
    for (const k of ['mean', 'stderr', 'connected']) cols[k].push(...e.estimate[k]);
    for (const k of ['exact', 'gp']) cols[k].push(...e.theory[k]);
  }
  return [tuples, cols];
}

function assertBitEqual(a, b, what) {
  assert.equal(a.length, b.length, what);
  // NaN (theory unknown) matches NaN whatever its payload; JSON loses it.
  const fa = Float64Array.from(a).map((v) => (Number.isNaN(v) ? 0 : v));
  const fb = Float64Array.from(b).map((v) => (Number.isNaN(v) ? 0 : v));
  for (let i = 0; i < a.length; i++) {
    assert.equal(Number.isNaN(a[i]), Number.isNaN(b[i]), `${what}[${i}] NaN`);
  }
  assert.ok(Buffer.from(fa.buffer).equals(Buffer.from(fb.buffer)),
            `${what} differs in bits: ${a} vs ${b}`);
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

describe('nnft Node client', { skip }, () => {
  let server;
  let client;
  let job;
  let snapshots;
  let result;

  before(async () => {
    server = await startServer();
    client = new Client(server.address);
    job = await client.submit(smallSpec());
    snapshots = [];
    for await (const s of job.watch({ maxEntries: 4, timeoutMs: 120000 })) {
      snapshots.push(s);
    }
    result = await job.result({ timeoutMs: 120000 });
  });

  after(async () => {
    client.close();
    assert.equal(await server.stop(), 0, server.log);
  });

  test('watch yields progress until the job succeeds', () => {
    const last = snapshots.at(-1);
    assert.equal(last.state, 'SUCCEEDED');
    assert.equal(last.chunksTotal, 8);
    assert.equal(last.chunksDone, 8);
    const done = snapshots.map((s) => s.chunksDone);
    assert.deepEqual(done, [...done].sort((a, b) => a - b));
  });

  test('result equals the raw GetResult stream bit for bit', async () => {
    const [tuples, raw] = await rawResult(client, job.name);
    assert.deepEqual(result.tuples, tuples);
    for (const k of ['mean', 'stderr', 'connected', 'exact', 'gp']) {
      assertBitEqual(result[k], raw[k], k);
    }
    assert.equal(result.length, 21);
    assert.equal(result.networks, 4000);
    assert.equal(result.seed, '21');
    assert.equal(result.kernel.length, 9);
  });

  test('result equals the C++ CLI JSON bit for bit', (t) => {
    const cli = process.env.NNFT_CLI_BINARY || '';
    if (!fs.existsSync(cli)) {
      t.skip(`no nnft CLI at '${cli}'`);
      return;
    }
    const out = execFileSync(cli, [`--server=${server.address}`, 'result',
                                   job.name, '--format=json'],
                             { encoding: 'utf8', timeout: 60000 });
    // {"header": ResultHeader, "entries": EntryBlock, "kernel": [...]};
    // protobuf JSON writes non-finite doubles as strings ("NaN").
    const doc = JSON.parse(out);
    const nums = (xs) => xs.map(Number);
    const est = doc.entries.estimate;
    assert.deepEqual(est.tuples.map((t) => t.index), result.tuples);
    assertBitEqual(nums(est.mean), result.mean, 'CLI mean');
    assertBitEqual(nums(est.stderr), result.stderr, 'CLI stderr');
    assertBitEqual(nums(est.connected), result.connected, 'CLI connected');
    assertBitEqual(nums(doc.entries.theory.exact), result.exact, 'CLI exact');
    assertBitEqual(nums(doc.kernel), result.kernel, 'CLI kernel');
  });

  test('two-point estimates agree with exact theory within five standard errors', () => {
    // G2 only: with 8 bins the errors of fourth moments are heavy-tailed
    // (Student t, 7 dof).
    let compared = 0;
    for (let i = 0; i < result.length; i++) {
      if (result.orders[i] !== 2 || !Number.isFinite(result.exact[i]) ||
          !(result.stderr[i] > 0)) continue;
      const z = (result.mean[i] - result.exact[i]) / result.stderr[i];
      assert.ok(Math.abs(z) < 5, `tuple ${result.tuples[i]}: z = ${z}`);
      compared += 1;
    }
    assert.ok(compared > 0, 'no exact theory to compare with');
  });

  test('snake_case and camelCase specs are the same experiment', async () => {
    const snake = JSON.parse(JSON.stringify(smallSpec())
      .replace('inputDim', 'input_dim').replace('numNetworks', 'num_networks'));
    const again = await client.submit(snake);
    assert.equal(again.job.digest, job.job.digest);
    const r = await again.result({ timeoutMs: 60000 });
    assertBitEqual(r.mean, result.mean, 'mean');
  });

  test('kernel and info', async () => {
    const k = await client.kernel(smallSpec());
    assert.equal(k.numPoints, 3);
    for (let i = 0; i < 9; i++) {
      assert.ok(Math.abs(k.kernel[i] - result.kernel[i]) <=
                1e-12 * Math.abs(result.kernel[i]), `kernel[${i}]`);
    }
    const info = await client.info();
    assert.ok(info.version.length > 0);
    const names = (await client.jobs({ pageSize: 1 })).map((j) => j.name);
    assert.ok(names.includes(job.name));
    assert.equal(new Set(names).size, names.length, 'paging repeated jobs');
    const done = await client.jobs({ states: ['SUCCEEDED'] });
    assert.ok(done.some((j) => j.name === job.name));
    assert.ok(done.every((j) => j.state === 'SUCCEEDED'));
  });

  test('kernel: NTK, cross kernels and the training prediction', async () => {
    const spec = {
      architecture: { mlp: { inputDim: 1, widths: [64], activation: 'ACTIVATION_ERF',
                             sw: [1.5, 1.0], sb: [0.3, 0.1] } },
      points: [{ x: [0.2] }, { x: [0.7] }],
      training: { data: { x: [{ x: [-1.0] }, { x: [0.2] }, { x: [1.1] }],
                          y: [0.3, -0.5, 0.8] },
                  eta: 0.5, times: [0, 1, 200] },
    };
    const k = await client.kernel(spec, { crossPoints: [[1.5]] });
    assert.equal(k.ntkAbsentReason, '');
    assert.equal(k.ntk.length, 4);
    assert.equal(k.numCrossPoints, 1);
    assert.equal(k.crossKernel.length, 2);
    assert.equal(k.crossNtk.length, 2);
    const p = k.prediction;
    assert.deepEqual(Array.from(p.times), [0, 1, 200]);
    assert.equal(p.numPoints, 3);
    assert.equal(p.mean.length, 9);
    assert.equal(p.covariance.length, 27);
    // Point 0 is a training point (y = -0.5): at t = 0 the mean is 0, late
    // in training it is the target and its variance is gone.
    assert.equal(Math.abs(p.mean[0]), 0);
    assert.ok(Math.abs(p.mean[2 * 3] + 0.5) < 1e-6, `mu = ${p.mean[6]}`);
    assert.ok(Math.abs(p.covariance[2 * 9]) < 1e-6);
    assert.ok(p.loss[2] < 1e-6 * p.loss[0]);
    // The cross kernel is the off-diagonal block of the union's kernel.
    const union = await client.kernel({ ...spec,
                                        points: [...spec.points, { x: [1.5] }] });
    for (let i = 0; i < 2; i++) {
      assert.ok(Math.abs(k.crossKernel[i] - union.kernel[3 * i + 2]) <=
                1e-12 * Math.abs(union.kernel[3 * i + 2]), `crossKernel[${i}]`);
      assert.ok(Math.abs(k.crossNtk[i] - union.ntk[3 * i + 2]) <=
                1e-12 * Math.abs(union.ntk[3 * i + 2]), `crossNtk[${i}]`);
    }
    await assert.rejects(client.kernel(spec, { crossPoints: [[1.5, 2]] }),
                         (err) => err.status === 'INVALID_ARGUMENT' &&
                                  /cross_points\[0\]\.x/.test(err.message));
    // The Gauss-net (sw0 = sw1 = 1, no biases, d = 1) has the NTK
    // Theta(x, y) = exp(-(x - y)^2 / 2) (1 + x y).
    const gauss = await client.kernel({
      architecture: { gaussNet: { inputDim: 1, width: 10 } },
      points: [{ x: [0] }, { x: [1] }] });
    assert.equal(gauss.ntkAbsentReason, '');
    const theta = (x, y) => Math.exp(-0.5 * (x - y) ** 2) * (1 + x * y);
    [0, 1].forEach((x, i) => [0, 1].forEach((y, j) => assert.ok(
      Math.abs(gauss.ntk[2 * i + j] - theta(x, y)) <= 1e-14, `ntk[${i}][${j}]`)));
    // The cos MLP with a uniform phase has none, and says why.
    const cos = await client.kernel({
      architecture: { mlp: { inputDim: 1, widths: [10], activation: 'ACTIVATION_COS',
                             sw: [1.0, 1.0], sb: [0.0, 0.0],
                             firstBias: 'BIAS_LAW_UNIFORM_PHASE' } },
      points: [{ x: [0] }] });
    assert.equal(cos.ntk, null);
    assert.match(cos.ntkAbsentReason, /architecture\.mlp\.first_bias/);
    assert.equal(cos.prediction, null);
  });

  test('an invalid width is INVALID_ARGUMENT naming the field', async () => {
    const spec = smallSpec();
    spec.architecture.mlp.widths = [0];
    await assert.rejects(client.submit(spec), (err) => {
      assert.ok(err instanceof NnftError);
      assert.equal(err.status, 'INVALID_ARGUMENT');
      assert.match(err.message, /^INVALID_ARGUMENT: .*width/);
      return true;
    });
  });

  test('an unknown job is NOT_FOUND', async () => {
    await assert.rejects(client.job('jobs/00000000deadbeef'),
                         (err) => err.status === 'NOT_FOUND');
    await assert.rejects(client.job('jobs/no-such-job'), (err) =>
      err.status === 'INVALID_ARGUMENT' && /name/.test(err.message));
  });

  test('result timeout leaves the job running; cancel stops it', async () => {
    const long = await client.submit(longSpec());
    const t0 = Date.now();
    await assert.rejects(long.result({ timeoutMs: 500 }),
                         (err) => err.status === 'DEADLINE_EXCEEDED');
    assert.ok(Date.now() - t0 < 5000);
    await long.refresh();
    assert.ok(['QUEUED', 'RUNNING'].includes(long.state), long.state);
    await long.cancel();
    await assert.rejects(long.result({ timeoutMs: 60000 }),
                         (err) => err.status === 'CANCELLED');
    assert.equal(long.state, 'CANCELLED');
  });

  test('a lost job is resubmitted and gives the same bits', async () => {
    const j = await client.submit(smallSpec(22));
    const first = await j.result({ timeoutMs: 60000 });
    await j.delete();
    const second = await j.result({ timeoutMs: 60000 });
    assert.equal(j.resubmissions, 1);
    assertBitEqual(second.mean, first.mean, 'mean');
  });
});

describe('width sweep', { skip }, () => {
  test('one sweep job: per-width results and fits of G4_c, G6_c', async () => {
    const server = await startServer();
    const client = new Client(server.address);
    try {
      const job = await client.submit({
        architecture: { mlp: { inputDim: 1, widths: [1],
                               activation: 'ACTIVATION_ERF', sw: [2, 1] } },
        points: [{ x: [0.5] }, { x: [-1.0] }],
        observables: { tuples: [{ index: [0, 1] }, { index: [0, 0, 1, 1] },
                                { index: [0, 0, 0, 1, 1, 1] }] },
        sampling: { seed: '9', numNetworks: '100000', chunkSize: 2000,
                    integrateOutputLayer: true },
        widthSweep: { widths: [8, 2, 4, 16, 32] },
      });
      const snaps = [];
      for await (const s of job.watch({ timeoutMs: 120000 })) snaps.push(s);
      assert.ok(snaps.some((s) => s.sweepWidths.length > 0));
      const r = await job.result({ timeoutMs: 120000 });
      assert.deepEqual(r.sweep.widths, [2, 4, 8, 16, 32]);
      assert.equal(r.sweep.perWidth[0].connected.length, 3);
      assert.equal(r.sweep.fits.length, 2);
      for (const f of r.sweep.fits) {
        assert.equal(f.expectedExponent, f.order === 4 ? -1 : -2);
        assert.ok(Math.abs(f.exponent - f.expectedExponent) <
                  3 * f.exponentStderr,
                  `G${f.order}_c: ${f.exponent} +- ${f.exponentStderr}`);
      }
      await assert.rejects(
        client.submit({ architecture: { mlp: { inputDim: 1, widths: [1],
                                               activation: 'ACTIVATION_ERF' } },
                        points: [{ x: [0] }], widthSweep: { widths: [4] } }),
        (err) => err.status === 'INVALID_ARGUMENT' &&
                 err.message.includes('width_sweep.widths has 1 entries'));
    } finally {
      client.close();
      assert.equal(await server.stop(), 0, server.log);
    }
  });
});

describe('deadlines', () => {
  test('a unary call to a silent peer is DEADLINE_EXCEEDED', async () => {
    // A peer that accepts TCP but never speaks HTTP/2: only the deadline
    // ends the call.
    const peer = net.createServer(() => {});
    await new Promise((r) => peer.listen(0, '127.0.0.1', r));
    const c = new Client(`127.0.0.1:${peer.address().port}`);
    const t0 = Date.now();
    await assert.rejects(c.info({ timeoutMs: 300 }), (err) =>
      err instanceof NnftError && err.status === 'DEADLINE_EXCEEDED' &&
      /^DEADLINE_EXCEEDED: /.test(err.message));
    const elapsed = Date.now() - t0;
    c.close();
    peer.close();
    assert.ok(elapsed >= 250 && elapsed < 3000, `${elapsed} ms`);
  });
});

describe('retries', { skip }, () => {
  test('UNAVAILABLE is retried until the deadline', async () => {
    const c = new Client(`127.0.0.1:${await freePort()}`);
    const t0 = Date.now();
    await assert.rejects(c.info({ timeoutMs: 600 }),
                         (err) => err.status === 'UNAVAILABLE');
    assert.ok(Date.now() - t0 > 200);
    c.close();
  });

  test('a call succeeds once the server comes up', async () => {
    const port = await freePort();
    const c = new Client(`127.0.0.1:${port}`);
    const pending = c.info({ timeoutMs: 30000 });
    await new Promise((r) => setTimeout(r, 800));
    const server = await startServer({ listen: `127.0.0.1:${port}` });
    try {
      const info = await pending;
      assert.ok(info.version.length > 0);
    } finally {
      c.close();
      assert.equal(await server.stop(), 0);
    }
  });
});
