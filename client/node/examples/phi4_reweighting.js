'use strict';
// phi^4 theory from a free neural network by reweighting: the cos-net of
// arXiv 2307.03223 on a periodic box, each network weighted by
// exp(-(lambda/4!) int_box phi^4). At small lambda the shift of G2 is the
// tadpole -(lambda/2) G(0) H(x - y). Run against a server you started:
//   node client/node/examples/phi4_reweighting.js 127.0.0.1:50051

const { Client } = require('..');

async function main() {
  const address = process.argv[2] || '127.0.0.1:50051';
  const spec = {
    architecture: { cosNet: { inputDim: 1, width: 2000, mass: 1.0, cutoff: 5.0,
                              boxSide: 4.0 } },
    points: [{ x: [0.0] }, { x: [0.7] }, { x: [2.0] }],
    observables: { orders: [2] },
    sampling: { seed: '5', numNetworks: '40000', chunkSize: 2000 },
    insertion: { lambda: 0.05 },
    label: 'phi^4 by reweighting',
  };
  const client = new Client(address);
  try {
    const job = await client.submit(spec);
    console.log('submitted', job.name);
    const r = await job.result();
    const w = r.reweight;
    console.log(`lambda = ${w.lambda}, ESS = ${w.ess.toFixed(0)} of ` +
                `${r.networks} networks` +
                (w.ess_warning ? `  WARNING: ${w.warning}` : ''));
    console.log('tuple    G2 reweighted +- err   shift +- err          tadpole');
    for (let i = 0; i < r.length; i++) {
      console.log(`${JSON.stringify(r.tuples[i]).padEnd(8)} ` +
                  `${r.mean[i].toFixed(6)} +- ${r.stderr[i].toPrecision(2)}  ` +
                  `${r.shift[i].toFixed(6)} +- ${r.shiftStderr[i].toPrecision(2)}  ` +
                  `${r.firstOrderShift[i].toFixed(6)}`);
    }
  } finally {
    client.close();
  }
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
