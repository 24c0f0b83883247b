'use strict';
// A width sweep of an erf net as one experiment: the server runs every width
// (each stored under its own digest), streams the fits as they sharpen, and
// fits |G4_c| = A N^s and |G6_c| = A N^s across the widths. For one hidden
// layer s = -1 and -2 exactly (G4_c ~ 1/N, G6_c ~ 1/N^2).
//   node client/node/examples/width_sweep.js 127.0.0.1:50051

const { Client } = require('..');

const spec = {
  label: 'erf net width sweep',
  architecture: { mlp: { inputDim: 1, widths: [1], activation: 'ACTIVATION_ERF',
                         sw: [2.0, 1.0] } },
  points: [{ x: [0.5] }, { x: [-1.0] }],
  observables: { tuples: [{ index: [0, 1] }, { index: [0, 0, 1, 1] },
                          { index: [0, 0, 0, 1, 1, 1] }] },
  sampling: { seed: '7', numNetworks: '200000', chunkSize: 2000,
              integrateOutputLayer: true },
  widthSweep: { widths: [2, 4, 8, 16, 32] },
};

function fitText(f) {
  return `G${f.order}_c(${f.tuple.join(',')}): s = ${f.exponent.toFixed(4)} ` +
         `+- ${f.exponentStderr.toFixed(4)}`;
}

async function main() {
  const address = process.argv[2] || '127.0.0.1:50051';
  const client = new Client(address);
  try {
    const job = await client.submit(spec);
    for await (const s of job.watch()) {
      if (s.sweepFits.length > 0) {
        console.log(`${s.state} ${s.chunksDone}/${s.chunksTotal} chunks, ` +
                    `widths so far ${s.sweepWidths.join(',')}: ` +
                    s.sweepFits.map(fitText).join('; '));
      }
    }
    const r = await job.result();
    console.log('     N   G4_c(0,0,1,1) +- err         exact        z');
    r.sweep.perWidth.forEach((w) => {
      console.log(`${String(w.width).padStart(6)}   ` +
                  `${w.connected[1].toPrecision(6)} +- ` +
                  `${w.connectedStderr[1].toPrecision(2)}   ` +
                  `${w.exactConnected[1].toPrecision(6)}   ` +
                  `${w.zExactConnected[1].toFixed(2)}`);
    });
    console.log('tuple            n    exponent +- err      expected      z');
    for (const f of r.sweep.fits) {
      console.log(`${('(' + f.tuple.join(',') + ')').padEnd(16)} ${f.order}  ` +
                  `${f.exponent.toFixed(4).padStart(9)} +- ` +
                  `${f.exponentStderr.toFixed(4)}   ${String(f.expectedExponent).padStart(8)}  ` +
                  `${f.z.toFixed(2).padStart(6)}`);
    }
  } finally {
    client.close();
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
