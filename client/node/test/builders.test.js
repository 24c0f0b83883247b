'use strict';
// Every builder of experiments (lib/builders.js): built -> submitted to a
// real nnft-server -> a result with a nonzero finite estimate, compared with
// exact theory within Z_MAX standard errors where the server has it. Small
// networks, fixed seeds. Also enum names: short, any case, prefixed, and the
// error listing the valid names.

const assert = require('node:assert/strict');
const { describe, test, before, after } = require('node:test');

const { Client, experiments: ex, toSpec } = require('..');
const { startServer, serverBinary } = require('./server');

const Z_MAX = 5;
const skip = serverBinary() ? false : 'NNFT_SERVER_BINARY not set';

/** Nonzero finite entries of `order`; exact within Z_MAX where known.
 * Returns whether any exact value was known. */
function assertPhysical(r, order = 2) {
  const idx = r.tuples.map((t, i) => [t, i]).filter(([t]) => t.length === order)
    .map(([, i]) => i);
  assert.ok(idx.length > 0, `no entry of order ${order}`);
  const mean = idx.map((i) => r.mean[i]);
  assert.ok(mean.every(Number.isFinite), `${mean}`);
  assert.ok(mean.some((v) => v !== 0), `all zero: ${mean}`);
  const z = idx.map((i) => r.zExact[i]).filter(Number.isFinite);
  for (const v of z) assert.ok(Math.abs(v) < Z_MAX, `z against exact ${z}`);
  return z.length > 0;
}

describe('builders against a real server', { skip }, () => {
  let server;
  let client;
  const run = async (spec) => (await client.submit(spec)).result({ timeoutMs: 120000 });

  before(async () => {
    server = await startServer();
    client = new Client(server.address);
  });

  after(async () => {
    client.close();
    assert.equal(await server.stop(), 0, server.log);
  });

  test('mlp: default first-layer bias makes x = 0 physical', async () => {
    const spec = ex.mlp(16, [0, 1], { activation: 'ERF', orders: [2], seed: 1,
                                      numNetworks: 4000 });
    assert.deepEqual(spec.architecture.mlp.sb, [0.5, 0]);
    const r = await run(spec);
    assert.ok(assertPhysical(r));
    assert.ok(r.mean[r.indexOf([0, 0])] > 0);
  });

  test('conv1d', async () => {
    const spec = ex.conv1d(8, [[0.3, -0.5, 1, 0.2], [1, 0.4, -0.2, 0.6]], {
      activation: 'tanh', padding: 'Zero', outputPosition: 1, sw: 1.3,
      sb: 0.2, orders: [2], seed: 2, numNetworks: 4000 });
    assert.equal(spec.architecture.conv1d.sequenceLength, 4);
    assert.ok(assertPhysical(await run(spec)));
  });

  test('attention', async () => {
    const spec = ex.attention(4, [[0.3, -0.5, 1, 0.2], [1, 0.4, -0.2, 0.6]], {
      sequenceLength: 2, headDim: 2, outputPosition: 1, sb: 0.1, orders: [2],
      seed: 3, numNetworks: 4000 });
    assert.equal(spec.architecture.attention.embedDim, 2);
    assertPhysical(await run(spec));
  });

  test('kan', async () => {
    assertPhysical(await run(ex.kan(8, [[0.3, -0.5], [1, 0.2]], {
      gridSize: 4, baseActivation: 'gelu', orders: [2], seed: 4,
      numNetworks: 4000 })));
  });

  test('null cone', async () => {
    const r = await run(ex.nullCone([[0, 0], [1, 0], [0, 1.5], [2, 1]], {
      law: 'gaussian', scale: 0.8, orders: [2, 4], seed: 5,
      numNetworks: 20000 }));
    const c = r.conformal;
    assert.ok(c);
    assert.ok(Math.abs(c.mu4.exact - 3 * 0.8 ** 4) < 1e-12);
    for (const t of c.twoPoint) {
      assert.ok(Number.isFinite(t.g2.value) && t.g2.value !== 0);
      assert.ok(Math.abs(t.g2.value - t.g2.exact) < Z_MAX * t.g2.stderr);
    }
  });

  test('OU net with reflection positivity', async () => {
    const spec = ex.reflectionPositivity(ex.ouNet(16, [0.2, 0.6, 1.4], {
      tau: 1, sigma: 1, sw: [1.5, 1], orders: [2], seed: 6, numNetworks: 4000,
      integrateOutputLayer: true }), [0.2, 0.6, 1.4]);
    const r = await run(spec);
    assertPhysical(r);
    assert.equal(r.reflection.twoPoint.size, 3);
    assert.notEqual(r.reflection.twoPoint.verdict, 'violated');
  });

  test('training', async () => {
    const base = ex.mlp(32, [0.2, 0.7], { sw: [1.5, 1], sb: [0.3, 0.1],
                                          seed: 8, numNetworks: 256, chunkSize: 32 });
    const spec = ex.training(base, { x: [-1, 0.2, 1.1], y: [0.3, -0.5, 0.8],
                                     times: [0, 1, 4], eta: 0.5,
                                     method: 'gradient_descent',
                                     parameterisation: 'NTK' });
    assert.equal(base.training, undefined);
    const r = await run(spec);
    assert.equal(r.kind, 'training');
    const last = r.training.times[r.training.times.length - 1];
    assert.ok(last.mu.every(Number.isFinite) && last.mu.some((v) => v !== 0));
    assert.ok(r.training.lossMean[2] < r.training.lossMean[0]);
  });

  test('deformed, insertion, effective coupling, width sweep', async () => {
    assert.ok(assertPhysical(await run(ex.deformed(
      ex.mlp(8, [0.3, 1], { orders: [2], seed: 9, numNetworks: 4000 }),
      { s: 1, lam: 0.5 }))));

    const box = await run(ex.phi4Box(200, [0, 0.7], {
      boxSide: 4, lam: 0.05, mass: 1, cutoff: 5, orders: [2], seed: 10,
      numNetworks: 4000 }));
    assertPhysical(box);
    assert.ok(box.reweight && box.reweight.ess > 0);

    const ec = await run(ex.effectiveCoupling(ex.mlp(8, [-0.5, 0.2, 0.5, 1], {
      orders: [2, 4], seed: 11, numNetworks: 4000 }), [1, 2]));
    assertPhysical(ec, 4);
    assert.ok(ec.effectiveCoupling.lambda.every(Number.isFinite));

    const sw = await run(ex.widthSweep(ex.conv1d(2, [[0.3, -0.5, 1], [1, 0.4, -0.2]], {
      sb: 0.3, tuples: [[0, 1], [0, 0, 1, 1]], seed: 12, numNetworks: 20000,
      integrateOutputLayer: true }), [2, 4, 8]));
    assert.deepEqual(sw.sweep.widths, [2, 4, 8]);
    for (const w of sw.sweep.perWidth) {
      const i = w.tuples.findIndex((t) => t.join() === '0,1');
      assert.ok(Number.isFinite(w.mean[i]) && w.mean[i] !== 0);
    }
  });

  test('symmetry and cluster checks', async () => {
    const c = Math.cos(0.7);
    const s = Math.sin(0.7);
    let spec = ex.mlp(16, [[0.3, -0.5], [1, 0.2]], { orders: [2], seed: 13,
                                                     numNetworks: 4000 });
    spec = ex.symmetry(spec, { rotation: [[c, -s], [s, c]], label: 'rot' });
    spec = ex.symmetry(spec, { phiSignFlip: true });
    const r = await run(spec);
    assert.ok(assertPhysical(r));
    assert.deepEqual(r.symmetry.map((x) => x.kind), ['rotation', 'phi_sign_flip']);
    assert.ok(r.symmetry.every((x) => x.consistent));

    const g = await run(ex.cluster(ex.gaussNet(100, [0], { orders: [2], seed: 14,
                                                           numNetworks: 4000 }),
                                   [0, 0, 0, 0], [1], [0, 0.5, 1, 2]));
    assert.ok(assertPhysical(g));
    assert.equal(g.cluster.length, 1);
    assert.ok(g.cluster[0].value.every(Number.isFinite));
  });
});

describe('enum names', () => {
  test('short, any case, or prefixed', () => {
    for (const a of ['relu', 'RELU', 'Relu', 'ACTIVATION_RELU', 'activation_relu', 2]) {
      assert.equal(ex.mlp(4, [0.5], { activation: a }).architecture.mlp.activation,
                   'ACTIVATION_RELU', String(a));
    }
  });

  test('an unknown name lists the valid ones', () => {
    assert.throws(() => ex.mlp(4, [0.5], { activation: 'swish' }), (e) => {
      assert.equal(e.status, 'INVALID_ARGUMENT');
      assert.match(e.message, /activation = "swish": must be one of identity, relu, erf/);
      assert.doesNotMatch(e.message, /unspecified/);
      return true;
    });
    assert.throws(() => ex.training(ex.mlp(4, [0.5]), { x: [0.1], y: [0.2], method: 'adam' }),
                  /training.method = "adam": must be one of gradient_descent, gradient_flow/);
  });

  test('plain spec objects take short names too', () => {
    const s = toSpec({
      architecture: { conv1d: { sequenceLength: 2, kernelSize: 1, channels: 4,
                                activation: 'relu', padding: 'zero' } },
      training: { method: 'Gradient_Flow' }, sampling: { precision: 'float32' },
    });
    assert.equal(s.architecture.conv1d.activation, 'ACTIVATION_RELU');
    assert.equal(s.architecture.conv1d.padding, 'PADDING_ZERO');
    assert.equal(s.training.method, 'TRAINING_METHOD_GRADIENT_FLOW');
    assert.equal(s.sampling.precision, 'PRECISION_FLOAT32');
    assert.throws(() => toSpec({ architecture: { mlp: { activation: 'rleu' } } }),
                  /architecture.mlp.activation = "rleu": must be one of .*relu/);
  });
});
