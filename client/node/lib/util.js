'use strict';
// Shared helpers of the nnft Node client: proto loading, errors, spec
// normalisation, deadlines and retries with backoff.

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const DEFAULT_TIMEOUT_MS = 30000;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const MAX_RESUBMISSIONS = 3;

/** Directory holding nnft/v1/*.proto: $NNFT_PROTO_DIR, else the checkout's. */
function defaultProtoDir() {
  if (process.env.NNFT_PROTO_DIR) return process.env.NNFT_PROTO_DIR;
  const bundled = path.join(__dirname, '..', 'proto');
  if (fs.existsSync(path.join(bundled, 'nnft', 'v1', 'nnft.proto'))) {
    return bundled;
  }
  return path.resolve(__dirname, '..', '..', '..', 'proto');
}

const LOADER_OPTIONS = {
  keepCase: true,  // snake_case field names, as in the .proto files
  longs: String,   // int64/uint64 as decimal strings (seeds exceed 2^53)
  enums: String,
  defaults: true,
  oneofs: true,
};

const definitions = new Map();

/** The proto-loader package definition of nnft/v1 (cached per directory). */
function loadDefinition(protoDir = defaultProtoDir()) {
  if (!definitions.has(protoDir)) {
    definitions.set(protoDir, protoLoader.loadSync('nnft/v1/nnft.proto', {
      ...LOADER_OPTIONS, includeDirs: [protoDir],
    }));
  }
  return definitions.get(protoDir);
}

/** Loads the nnft.v1 package (service constructor and message types). */
function loadProtos(protoDir = defaultProtoDir()) {
  return grpc.loadPackageDefinition(loadDefinition(protoDir)).nnft.v1;
}

function typeOf(def, typeName) {
  const t = def[typeName] || def[`nnft.v1.${typeName}`];
  return t ? t.type : null;
}

/** The valid names of an enum without its prefix, lower case. */
function enumShortNames(enumType) {
  const prefix = enumPrefix(enumType);
  return enumType.value.filter((v) => v.number !== 0)
    .map((v) => v.name.slice(prefix.length).toLowerCase());
}

function enumPrefix(enumType) {
  const u = enumType.value.find((v) => v.name.endsWith('_UNSPECIFIED'));
  return u ? u.name.slice(0, -'UNSPECIFIED'.length) : '';
}

/**
 * The full value name of `value` in the spec enum `enumName` (e.g.
 * 'Activation'): a number, or a name in any case with or without the
 * prefix ('relu', 'RELU', 'ACTIVATION_RELU'). Throws an INVALID_ARGUMENT
 * NnftError naming `field` and listing the valid names.
 */
function enumValue(enumName, value, field, def = loadDefinition()) {
  const e = typeOf(def, enumName);
  if (!e) throw new Error(`unknown enum ${enumName}`);
  const prefix = enumPrefix(e);
  let v;
  if (typeof value === 'number') {
    v = e.value.find((x) => x.number === value);
  } else if (typeof value === 'string') {
    const name = value.trim().toUpperCase().replace(/-/g, '_');
    v = e.value.find((x) => x.name === name || x.name === prefix + name);
  }
  if (!v) {
    throw new NnftError('INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT,
                        `${field} = ${JSON.stringify(value)}: must be one ` +
                        `of ${enumShortNames(e).join(', ')}`);
  }
  return v.name;
}

/** A copy of a snake_case spec object with every enum by its full name. */
function normalizeEnums(value, typeName, where, def) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return value;
  }
  const t = typeOf(def, typeName);
  if (!t || !t.field) return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    const f = t.field.find((x) => x.name === k);
    const path = where ? `${where}.${k}` : k;
    if (!f || v === null || v === undefined) {
      out[k] = v;
    } else if (f.type === 'TYPE_ENUM') {
      out[k] = Array.isArray(v) ?
        v.map((x, i) => enumValue(f.typeName, x, `${path}[${i}]`, def)) :
        enumValue(f.typeName, v, path, def);
    } else if (f.type === 'TYPE_MESSAGE') {
      out[k] = Array.isArray(v) ?
        v.map((x, i) => normalizeEnums(x, f.typeName, `${path}[${i}]`, def)) :
        normalizeEnums(v, f.typeName, path, def);
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** An error of a call or a job: the gRPC status name, code and message. */
class NnftError extends Error {
  constructor(status, code, details) {
    super(`${status}: ${details}`);
    this.name = 'NnftError';
    this.status = status;  // e.g. "INVALID_ARGUMENT"
    this.code = code;      // numeric gRPC status code
    this.details = details;
  }
}

const STATUS_NAMES = Object.fromEntries(
  Object.entries(grpc.status).map(([k, v]) => [v, k]));

function mapError(err) {
  if (err instanceof NnftError || err.code === undefined) return err;
  return new NnftError(STATUS_NAMES[err.code] || 'UNKNOWN', err.code,
                       err.details || err.message);
}

/** camelCase keys (protobuf's JSON mapping) to the .proto's snake_case. */
function snakeKeys(value) {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    out[k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())] = snakeKeys(v);
  }
  return out;
}

/** A spec from an object (JSON form), a JSON file path or JSON text; enum
 * values may be short names in any case ('relu' for 'ACTIVATION_RELU'). */
function toSpec(spec) {
  if (typeof spec === 'string') {
    const text = spec.trimStart().startsWith('{') ? spec :
      fs.readFileSync(spec, 'utf8');
    try {
      spec = JSON.parse(text);
    } catch (e) {
      throw new NnftError('INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT,
                          `spec: malformed JSON: ${e.message}`);
    }
  }
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new NnftError('INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT,
                        'spec: expected an object, a JSON file path or text');
  }
  return normalizeEnums(snakeKeys(spec), 'ExperimentSpec', '',
                        loadDefinition());
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Backoff delays with jitter: 50 ms doubling up to 2 s. */
function* backoff() {
  let d = 50;
  for (;;) {
    yield d * (0.5 + 0.5 * Math.random());
    d = Math.min(2 * d, 2000);
  }
}

// A retry is made only if at least this long would be left for it after the
// backoff: an attempt with a few milliseconds left fails DEADLINE_EXCEEDED
// before a connection attempt can report the server unreachable.
const MIN_ATTEMPT_MS = 100;

/** Runs attempt(deadline) until it succeeds; retries UNAVAILABLE if asked. */
async function withRetry(attempt, timeoutMs, retry) {
  const deadline = timeoutMs == null ? Infinity : Date.now() + timeoutMs;
  const delays = backoff();
  for (;;) {
    try {
      return await attempt(deadline);
    } catch (err) {
      const delay = delays.next().value;
      if (!retry || err.code !== grpc.status.UNAVAILABLE ||
          Date.now() + delay + MIN_ATTEMPT_MS >= deadline) {
        throw mapError(err);
      }
      await sleep(delay);
    }
  }
}

function num(x) {
  return typeof x === 'string' ? Number(x) : x;
}

function padded(values, n) {
  const out = new Float64Array(n).fill(NaN);
  out.set(values.slice(0, n));
  return out;
}

module.exports = {
  DEFAULT_TIMEOUT_MS, TERMINAL, MAX_RESUBMISSIONS, LOADER_OPTIONS,
  NnftError, STATUS_NAMES, backoff, defaultProtoDir, enumShortNames,
  enumValue, grpc, loadDefinition, loadProtos, mapError, num, padded, sleep,
  snakeKeys, toSpec, withRetry,
};
