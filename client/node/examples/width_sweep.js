'use strict';
// A width sweep of an erf net: the connected four-point function of a
// single-layer network falls as 1/N. Prints N * G4_c beside its exact value.
//   node client/node/examples/width_sweep.js 127.0.0.1:50051

const { Client } = require('..');

function spec(width) {
  return {
    architecture: { mlp: { inputDim: 1, widths: [width], activation: 'ACTIVATION_ERF',
                           sw: [1.5, 1.0] } },
    points: [{ x: [0.3] }, { x: [1.0] }],
    observables: { tuples: [{ index: [0, 1] }, { index: [0, 0, 1, 1] }] },
    sampling: { seed: '7', numNetworks: '400000', chunkSize: 10000 },
    label: `erf net width=${width}`,
  };
}

async function main() {
  const address = process.argv[2] || '127.0.0.1:50051';
  const widths = [2, 4, 8, 16, 32, 64];
  const client = new Client(address);
  try {
    const jobs = await Promise.all(widths.map((n) => client.submit(spec(n))));
    const results = await Promise.all(jobs.map((j) => j.result()));
    console.log('     N   N*G4_c(0,0,1,1) +- err     N*exact        z');
    results.forEach((r, k) => {
      const i = r.indexOf([0, 0, 1, 1]);
      const n = widths[k];
      console.log(`${String(n).padStart(6)}   ` +
                  `${(n * r.connected[i]).toPrecision(6)} +- ` +
                  `${(n * r.connectedStderr[i]).toPrecision(2)}   ` +
                  `${(n * r.exactConnected[i]).toPrecision(6)}   ` +
                  `${r.zExactConnected[i].toFixed(2)}`);
    });
  } finally {
    client.close();
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
