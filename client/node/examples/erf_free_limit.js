'use strict';
// The free limit of an erf net: at large width its two-point function is the
// NNGP kernel (Williams 1996) and its connected four-point function vanishes
// as 1/N. Run against a server you started:
//   node client/node/examples/erf_free_limit.js 127.0.0.1:50051

const { Client } = require('..');

async function main() {
  const address = process.argv[2] || '127.0.0.1:50051';
  const points = [];
  for (let i = 0; i < 9; i++) points.push({ x: [(3 * i) / 8] });
  const spec = {
    architecture: { mlp: { inputDim: 1, widths: [1024], activation: 'ACTIVATION_ERF',
                           sw: [2.0, 1.0], sb: [0.5, 0.0] } },
    points,
    observables: { orders: [2, 4] },
    sampling: { seed: '2024', numNetworks: '100000', chunkSize: 5000 },
    label: 'erf net, free limit',
  };
  const client = new Client(address);
  try {
    const job = await client.submit(spec);
    console.log('submitted', job.name);
    for await (const s of job.watch()) {
      process.stderr.write(`\r${s.state} ${s.chunksDone}/${s.chunksTotal} chunks`);
    }
    process.stderr.write('\n');
    const r = await job.result();
    console.log('tuple        G2 +- err              NNGP        z');
    for (let i = 0; i < r.length; i++) {
      if (r.orders[i] !== 2 || r.tuples[i][0] !== 0) continue;
      console.log(`${JSON.stringify(r.tuples[i]).padEnd(12)} ` +
                  `${r.mean[i].toFixed(6)} +- ${r.stderr[i].toPrecision(2)}  ` +
                  `${r.gp[i].toFixed(6)}  ${r.zGp[i].toFixed(2)}`);
    }
  } finally {
    client.close();
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
