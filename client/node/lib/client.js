'use strict';
// The nnft client: one channel, promise-based calls with deadlines, and
// retries with backoff for UNAVAILABLE on idempotent calls.

const crypto = require('node:crypto');
const fs = require('node:fs');
const { Job } = require('./job');
const {
  DEFAULT_TIMEOUT_MS, NnftError, STATUS_NAMES, grpc, loadProtos, num, padded,
  toSpec, withRetry,
} = require('./util');

// A row-major repeated double field as a Float64Array, null when empty.
function matrixOrNull(values) {
  return values && values.length > 0 ? Float64Array.from(values) : null;
}

/**
 * The theory-only prediction of an ensemble trained as the spec's training
 * says (infinite width, NTK parameterisation, t = eta * steps), at M = P + Q
 * points: the spec's points, then the cross points. Row-major arrays.
 */
class Prediction {
  constructor(msg) {
    this.times = Float64Array.from(msg.times);        // T
    this.numPoints = msg.num_points;                  // M
    this.mean = Float64Array.from(msg.mean);          // T x M
    this.covariance = Float64Array.from(msg.covariance);  // T x M x M
    this.loss = Float64Array.from(msg.loss);          // T: E[L_t]
    this.maxStableEta = msg.max_stable_eta;  // descent diverges at eta >= it
    this.method = msg.method;
  }
}

/**
 * ComputeKernel's answer: the P x P NNGP kernel and theory per tuple; the
 * NTK (null when absent, ntkAbsentReason says why); with cross points the
 * P x Q cross kernels; with a training spec the Prediction.
 */
class Kernel {
  constructor(resp) {
    this.numPoints = resp.num_points;
    this.kernel = Float64Array.from(resp.kernel);  // row-major P x P
    this.tuples = resp.tuples.map((t) => t.index.slice());
    const th = resp.theory || {};
    const n = this.tuples.length;
    this.gp = padded(th.gp || [], n);
    this.gpConnected = padded(th.gp_connected || [], n);
    this.exact = padded(th.exact || [], n);
    this.exactConnected = padded(th.exact_connected || [], n);
    this.hasExact = !!th.has_exact;
    this.method = resp.method || th.method || '';
    this.ntk = matrixOrNull(resp.ntk);  // row-major P x P, or null
    this.ntkAbsentReason = resp.ntk_absent_reason || '';
    this.numCrossPoints = resp.num_cross_points || 0;  // Q
    this.crossKernel = matrixOrNull(resp.cross_kernel);  // P x Q, or null
    this.crossKernelAbsentReason = resp.cross_kernel_absent_reason || '';
    this.crossNtk = matrixOrNull(resp.cross_ntk);  // P x Q, or null
    this.prediction = resp.prediction ? new Prediction(resp.prediction) : null;
  }
}

// A PEM given as bytes (Buffer, Uint8Array), or as a path to read; undefined stays undefined.
function pem(value) {
  if (value === undefined || value === null) return undefined;
  return value instanceof Uint8Array ? Buffer.from(value) : fs.readFileSync(value);
}

function credentials(tls, { ca, cert, key } = {}) {
  if (ca !== undefined || cert !== undefined || key !== undefined) {
    if ((cert === undefined) !== (key === undefined)) {
      throw new TypeError('nnft.Client: give both cert and key, or neither');
    }
    return grpc.credentials.createSsl(pem(ca) || null, pem(key) || null,
                                      pem(cert) || null);
  }
  if (!tls) return grpc.credentials.createInsecure();
  if (tls === true) return grpc.credentials.createSsl();
  if (typeof tls === 'string') {
    return grpc.credentials.createSsl(fs.readFileSync(tls));
  }
  return tls;  // a ChannelCredentials
}

class Client {
  /**
   * @param {string} address "host:port"
   * @param {object} [opts]
   * @param {string} [opts.token] sent as "authorization: Bearer <token>"
   * @param {boolean|string|object} [opts.tls] false: plaintext; true: TLS
   *   with system roots; a path to a PEM of roots; or ChannelCredentials
   * @param {string|Buffer} [opts.ca] PEM roots verifying the server (a path
   *   or the PEM itself): TLS on
   * @param {string|Buffer} [opts.cert] client certificate chain (with key),
   *   for servers that require client certificates
   * @param {string|Buffer} [opts.key] its private key
   * @param {number} [opts.timeoutMs] deadline of each unary call (30000)
   * @param {string} [opts.protoDir] directory holding nnft/v1/*.proto
   */
  constructor(address, { token, tls, ca, cert, key,
                         timeoutMs = DEFAULT_TIMEOUT_MS, protoDir,
                         channelOptions = {} } = {}) {
    this.address = address;
    this.timeoutMs = timeoutMs;
    this.proto = loadProtos(protoDir);
    this._stub = new this.proto.Nnft(address,
                                     credentials(tls, { ca, cert, key }),
                                     channelOptions);
    this._metadata = new grpc.Metadata();
    if (token) this._metadata.set('authorization', `Bearer ${token}`);
  }

  close() {
    this._stub.close();
  }

  /** Queues a spec (JSON-form object, file path or text); resolves to a Job.
   * A request id is generated when none is given, so retries are safe. */
  async submit(spec, { requestId, priority = 0, timeoutMs } = {}) {
    const msg = toSpec(spec);
    const id = requestId || 'js-' + crypto.randomUUID();
    const job = await this._unary('SubmitExperiment', {
      spec: msg, request_id: id, priority,
    }, { timeoutMs });
    return new Job(this, job, { spec: msg, requestId: id, priority });
  }

  /** Every spec in one SubmitBatch call (a scan). Resolves to one item per
   * spec, in order: its Job, or the NnftError the server answered for that
   * spec alone (returned, not thrown; its message names "entries[i]...").
   * Rejects only for an error of the whole call (more specs than the
   * server's limits.max_batch_entries, a draining server). A requestId is
   * generated when absent, so a retried call returns the same jobs. */
  async submitBatch(specs, { requestId, priority = 0, timeoutMs } = {}) {
    const msgs = specs.map(toSpec);
    const id = requestId || 'js-' + crypto.randomUUID();
    const resp = await this._unary('SubmitBatch', {
      entries: msgs.map((spec) => ({ spec, priority })), request_id: id,
    }, { timeoutMs });
    return resp.results.map((r, i) => (r.job
      ? new Job(this, r.job, { spec: msgs[i], priority })
      : new NnftError(STATUS_NAMES[r.error.code] || 'UNKNOWN', r.error.code,
                      r.error.message)));
  }

  /** The job named "jobs/{id}" (or just the id). */
  async job(name, { timeoutMs } = {}) {
    const full = String(name).startsWith('jobs/') ? name : `jobs/${name}`;
    return new Job(this, await this._unary('GetJob', { name: full },
                                           { timeoutMs }));
  }

  /** All jobs, oldest first (every page, up to `limit`); `states` keeps only
   * jobs in those states (names such as 'RUNNING'). */
  async jobs({ pageSize = 0, states = [], limit = Infinity, timeoutMs } = {}) {
    const out = [];
    let token = '';
    do {
      const resp = await this._unary('ListJobs', {
        page_size: pageSize, page_token: token, states,
      }, { timeoutMs });
      for (const j of resp.jobs) {
        if (out.length >= limit) return out;
        out.push(new Job(this, j));
      }
      token = resp.next_page_token;
    } while (token);
    return out;
  }

  /**
   * The analytic side alone (ComputeKernel). crossPoints: an optional
   * second point set (arrays of d numbers): K and Theta between the spec's
   * points and these, and a training spec's prediction there too.
   */
  async kernel(spec, { timeoutMs, crossPoints } = {}) {
    const request = { spec: toSpec(spec) };
    if (crossPoints) {
      request.cross_points = crossPoints.map((x) => ({ x: [].concat(x) }));
    }
    return new Kernel(await this._unary('ComputeKernel', request,
                                        { timeoutMs }));
  }

  /** ServerInfo: version, fingerprint, limits, capabilities, counters. */
  async info({ timeoutMs } = {}) {
    return this._unary('GetServerInfo', {}, { timeoutMs });
  }

  // -- internals -------------------------------------------------------------

  _callOptions(deadline) {
    return deadline === Infinity ? {} : { deadline: new Date(deadline) };
  }

  _unary(method, request, { timeoutMs, retry = true } = {}) {
    const t = timeoutMs === undefined ? this.timeoutMs : timeoutMs;
    return withRetry((deadline) => new Promise((resolve, reject) => {
      this._stub[method](request, this._metadata, this._callOptions(deadline),
                         (err, resp) => (err ? reject(err) : resolve(resp)));
    }), t, retry);
  }

  _resultPieces(name, timeoutMs) {
    const t = timeoutMs === undefined ? this.timeoutMs : timeoutMs;
    return withRetry(async (deadline) => {
      const pieces = [];
      const call = this._stub.GetResult({ name }, this._metadata,
                                        this._callOptions(deadline));
      for await (const p of call) pieces.push(p);
      return pieces;
    }, t, true);
  }
}

module.exports = { Client, Kernel, Prediction, num };
