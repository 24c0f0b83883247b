'use strict';
// Per-entry reliability verdicts through the Node client, against a real
// nnft-server: a narrow Gauss-net with a large first-layer bias (log-normal
// hidden units) has its four-point entries flagged HEAVY_TAILED and every
// entry with |z| > 3 against the exact value carries a warning; an erf net is
// OK everywhere. Fixed seeds; each job well under a second.

const assert = require('node:assert/strict');
const { describe, test, before, after } = require('node:test');

const { Client, experiments: ex } = require('..');
const { startServer, serverBinary } = require('./server');

const skip = serverBinary() ? false : 'NNFT_SERVER_BINARY not set';

describe('reliability verdicts', { skip }, () => {
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

  test('heavy-tailed Gauss-net entries are flagged', async () => {
    const r = await run(ex.gaussNet(2, [[0.05], [-0.05]], {
      sw0: 1, sb0: 1, sw1: 1, orders: [2, 4], seed: 3, numNetworks: 128000,
      chunkSize: 2000, integrateOutputLayer: true }));
    assert.equal(r.verdict.length, r.tuples.length);
    r.tuples.forEach((t, i) => {
      if (t.length === 4) assert.equal(r.verdict[i], 'HEAVY_TAILED', `${t}`);
      if (Math.abs(r.zExact[i]) > 3) assert.notEqual(r.verdict[i], 'OK', `${t}`);
    });
    const i4 = r.tuples.findIndex((t) => t.length === 4);
    assert.match(r.verdictReason[i4], /rare networks/);
    assert.ok(r.reliability[i4].skewness_z > 4);
  });

  test('erf net entries are OK', async () => {
    const r = await run(ex.mlp(8, [[0.3], [1.0]], { activation: 'erf',
      orders: [2, 4], seed: 5, numNetworks: 64000, chunkSize: 1000 }));
    assert.deepEqual(r.verdict, r.tuples.map(() => 'OK'));
    for (const rel of r.reliability) assert.equal(rel.dof, r.bins - 1);
  });
});
