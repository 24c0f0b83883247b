'use strict';
// The Node client against a real nnft-server with TLS (a throw-away CA made
// by tests/security/make_test_certs.sh with openssl), a required client
// certificate and bearer tokens (node --test).

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');
const { Client } = require('..');
const { serverBinary, startServer } = require('./server');

const skip = serverBinary() ? false : 'NNFT_SERVER_BINARY not set';
const ROOT = path.resolve(__dirname, '..', '..', '..');
const ALICE = 'alice-node-0123456789abcdef';
const BOB = 'bob-node-0123456789abcdef01';

function spec(seed) {
  return {
    architecture: { mlp: { inputDim: 1, widths: [16], activation: 'ACTIVATION_ERF' } },
    points: [{ x: [0.3] }, { x: [-0.7] }],
    observables: { orders: [2] },
    sampling: { seed: String(seed), numNetworks: '800', chunkSize: 200 },
  };
}

describe('TLS and tokens', { skip }, () => {
  let dir;
  let server;
  const pki = (name) => path.join(dir, name);
  const open = (opts) => new Client(server.address, { timeoutMs: 20000, ...opts });
  const tls = () => ({ ca: pki('ca.pem'), cert: pki('client.pem'), key: pki('client.key') });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nnft-node-sec-'));
    execFileSync('bash', [path.join(ROOT, 'tests', 'security', 'make_test_certs.sh'), dir]);
    fs.writeFileSync(pki('tokens'), `# test principals\n${ALICE} alice\n${BOB} bob\n`);
    server = await startServer({
      extraArgs: [`--tls_cert=${pki('server.pem')}`, `--tls_key=${pki('server.key')}`,
                  `--tls_client_ca=${pki('ca.pem')}`, `--token_file=${pki('tokens')}`],
    });
  });

  after(async () => {
    assert.equal(await server.stop(), 0, server.log);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('submits and fetches a result over TLS with a token', async () => {
    const client = open({ token: ALICE, ...tls() });
    try {
      const info = await client.info();
      assert.equal(info.security.tls, true);
      assert.equal(info.security.client_certificates, true);
      assert.equal(info.security.principal, 'alice');
      const job = await client.submit(spec(41));
      const r = await job.result({ timeoutMs: 60000 });
      assert.equal(r.mean.length, 3);
      // G2 of an erf net against its NNGP kernel, within 5 errors.
      for (const e of r.stderr) assert.ok(e > 0);
      for (const z of r.zExact) assert.ok(Math.abs(z) < 5, `z = ${z}`);
    } finally {
      client.close();
    }
  });

  test('refuses plaintext and certificate-less clients', async () => {
    for (const opts of [{}, { ca: pki('ca.pem') }]) {
      const client = open({ token: ALICE, timeoutMs: 3000, ...opts });
      try {
        await assert.rejects(client.info(), (e) => e.status === 'UNAVAILABLE');
      } finally {
        client.close();
      }
    }
  });

  test('missing or wrong tokens are UNAUTHENTICATED', async () => {
    for (const token of [undefined, 'wrong-token-0123456789']) {
      const client = open({ token, ...tls() });
      try {
        await assert.rejects(client.jobs(), (e) => e.status === 'UNAUTHENTICATED' &&
                             !e.message.includes('wrong-token'));
      } finally {
        client.close();
      }
    }
  });

  test("another principal's job is NOT_FOUND and not listed", async () => {
    const alice = open({ token: ALICE, ...tls() });
    const bob = open({ token: BOB, ...tls() });
    try {
      const job = await alice.submit(spec(42));
      await job.result({ timeoutMs: 60000 });
      await assert.rejects(bob.job(job.name), (e) => e.status === 'NOT_FOUND');
      assert.ok(!(await bob.jobs()).map((j) => j.name).includes(job.name));
    } finally {
      alice.close();
      bob.close();
    }
  });
});
