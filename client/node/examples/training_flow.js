'use strict';
// Learning dynamics from Node: the wide erf ensemble of
// deploy/examples/erf_training_flow.json with a loss histogram, watched live
// (the rows sharpen at all times together), then mu_t(x0) beside the NTK
// theory and the loss distribution (median and 5-95 % range) per time.
//
//   node client/node/examples/training_flow.js 127.0.0.1:50051

const path = require('node:path');
const { Client, toSpec } = require('..');

// Three significant digits; exponent form below 1e-3.
const fmt = (v) => (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) :
  v.toPrecision(3));

async function main() {
  const address = process.argv[2] || '127.0.0.1:50051';
  const spec = toSpec(path.join(__dirname, '..', '..', '..', 'deploy',
                                'examples', 'erf_training_flow.json'));
  spec.training.lossHistogram = { bins: 64, min: 1e-24, max: 1e2 };
  const client = new Client(address);
  try {
    const job = await client.submit(spec);
    console.log('submitted', job.name);
    let shown = -1;
    for await (const s of job.watch()) {
      if (s.training && s.networksDone !== shown) {
        shown = s.networksDone;
        console.log(`${s.networksDone}/${s.networksTotal} networks: mean ` +
                    `loss at t = ${s.training.t.at(-1)}: ` +
                    `${fmt(s.training.lossMean.at(-1))}`);
      }
    }
    const flow = (await job.result()).training;
    console.log('t    mu(x0) +- err        NTK theory  loss mean  ' +
                'median [5%, 95%]');
    for (const r of flow.times) {
      const q = r.lossHistogram.quantiles;
      console.log(`${String(r.t).padEnd(4)} ` +
                  `${fmt(r.mu[0])} +- ${fmt(r.muStderr[0])}`.padEnd(20) +
                  ` ${fmt(r.muTheory[0]).padEnd(11)} ${fmt(r.lossMean).padEnd(10)} ` +
                  `${fmt(q[2])} [${fmt(q[0])}, ${fmt(q[4])}]`);
    }
  } finally {
    client.close();
  }
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
