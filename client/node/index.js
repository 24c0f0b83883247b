'use strict';
// Node client of the nnft service: neural-network field theory correlators
// computed as long-running jobs over gRPC. Promise-based calls, jobs that can
// be watched with `for await`, results as Float64Arrays (the exact doubles the
// server sent). Loads the same protos as every other client (proto/nnft/v1).
//
//   const { Client, experiments } = require('nnft');
//   const client = new Client('127.0.0.1:50051');
//   const spec = experiments.mlp(64, [0.5, 1, 1.5], { activation: 'erf' });
//   const job = await client.submit(spec);          // or protobuf JSON form
//   for await (const snap of job.watch()) console.log(snap.state, snap.fraction);
//   const result = await job.result();
//
// Unary calls carry a deadline (timeoutMs, default 30000); idempotent calls
// retry UNAVAILABLE with exponential backoff within it. A job the server lost
// (NOT_FOUND) is resubmitted from its spec while waiting for its result.

const util = require('./lib/util');
const { Client, Kernel, Prediction } = require('./lib/client');
const { Job } = require('./lib/job');
const { Result, Snapshot } = require('./lib/result');
const experiments = require('./lib/builders');

module.exports = {
  Client, Job, Kernel, Prediction, Result, Snapshot, experiments,
  NnftError: util.NnftError,
  loadProtos: util.loadProtos,
  toSpec: util.toSpec,
  status: util.grpc.status,
};
