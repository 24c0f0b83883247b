'use strict';
// A submitted job: refresh, cancel, delete, an async-iterator watch, and a
// promise of its result. A job the server lost (NOT_FOUND) is resubmitted
// from its spec, which the result store makes cheap and bit-identical.

const crypto = require('node:crypto');
const { Result, Snapshot } = require('./result');
const {
  MAX_RESUBMISSIONS, NnftError, STATUS_NAMES, TERMINAL, backoff, grpc,
  mapError, sleep,
} = require('./util');

class Job {
  constructor(client, job, { spec = null, requestId = '', priority = 0 } = {}) {
    this._client = client;
    this.job = job;
    this.spec = spec;  // the spec as submitted (known for jobs we submitted)
    this.requestId = requestId || job.request_id;
    this.priority = priority || job.priority || 0;
    this.resubmissions = 0;
  }

  get name() { return this.job.name; }
  get state() { return this.job.state; }
  get progress() { return this.job.progress; }
  get done() { return TERMINAL.has(this.job.state); }

  /** Fetches the current state (GetJob); resolves to this job. */
  async refresh({ timeoutMs } = {}) {
    this.job = await this._client._unary('GetJob', { name: this.name },
                                         { timeoutMs });
    return this;
  }

  /** Requests cancellation; resolves to this job as it is now. */
  async cancel({ timeoutMs } = {}) {
    this.job = await this._client._unary('CancelJob', { name: this.name },
                                         { timeoutMs });
    return this;
  }

  /** Removes a finished job's record (its stored chunks stay). */
  async delete({ timeoutMs } = {}) {
    await this._client._unary('DeleteJob', { name: this.name },
                              { timeoutMs, retry: false });
  }

  /**
   * Yields a Snapshot per update until the job ends (async iterator).
   * Reopens the stream on UNAVAILABLE; rejects with DEADLINE_EXCEEDED after
   * timeoutMs (the job keeps running).
   */
  async* watch({ maxEntries = 0, timeoutMs } = {}) {
    const deadline = timeoutMs == null ? Infinity : Date.now() + timeoutMs;
    const delays = backoff();
    for (;;) {
      const call = this._client._stub.WatchJob(
        { name: this.name, max_entries: maxEntries },
        this._client._metadata, this._client._callOptions(deadline));
      try {
        for await (const update of call) {
          this.job = update.job;
          yield new Snapshot(update);
          if (TERMINAL.has(update.job.state)) return;
        }
        await this.refresh();
        if (this.done) return;
      } catch (err) {
        call.cancel();
        if (err.code === grpc.status.NOT_FOUND && await this._resubmit()) {
          continue;
        }
        const delay = delays.next().value;
        if (err.code !== grpc.status.UNAVAILABLE ||
            Date.now() + delay >= deadline) {
          throw mapError(err);
        }
        await sleep(delay);
      }
    }
  }

  /** Resolves to the final Job message once the job has ended. */
  async wait({ timeoutMs } = {}) {
    // eslint-disable-next-line no-unused-vars
    for await (const _ of this.watch({ maxEntries: 1, timeoutMs })) { /**/ }
    return this.job;
  }

  /**
   * Waits for the job and resolves to its Result; rejects with an NnftError
   * whose status is the job's (FAILED) or CANCELLED, or DEADLINE_EXCEEDED.
   */
  async result({ timeoutMs } = {}) {
    const deadline = timeoutMs == null ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      await this.wait({ timeoutMs });
      this.throwUnlessSucceeded();
      const left = deadline === Infinity ? undefined :
        Math.max(1, deadline - Date.now());
      try {
        return new Result(await this._client._resultPieces(this.name, left),
                          this.spec);
      } catch (err) {
        if (err.status === 'NOT_FOUND' && await this._resubmit()) continue;
        throw err;
      }
    }
  }

  /** Throws the job's error unless it succeeded. */
  throwUnlessSucceeded() {
    const j = this.job;
    if (j.state === 'SUCCEEDED') return;
    if (j.state === 'CANCELLED') {
      throw new NnftError('CANCELLED', grpc.status.CANCELLED,
                          `job ${j.name} was cancelled`);
    }
    const status = STATUS_NAMES[j.error_code] || 'UNKNOWN';
    throw new NnftError(status, j.error_code,
                        `job ${j.name} failed: ${j.error_message}`);
  }

  async _resubmit() {
    if (!this.spec || this.resubmissions >= MAX_RESUBMISSIONS) return false;
    this.resubmissions += 1;
    // A fresh request id: the old one may still name the lost record.
    this.requestId = 'js-' + crypto.randomUUID();
    this.job = await this._client._unary('SubmitExperiment', {
      spec: this.spec, request_id: this.requestId, priority: this.priority,
    }, {});
    return true;
  }
}

module.exports = { Job };
