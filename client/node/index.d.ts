// Type declarations of the nnft Node client (see index.js and README.md).
// Messages use the .proto's snake_case field names; int64/uint64 fields are
// decimal strings; enums are their names.

import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';

export type JobState =
  'STATE_UNSPECIFIED' | 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** An experiment spec in protobuf's JSON form (camelCase or snake_case). */
export type Spec = Record<string, unknown>;

export interface Progress {
  chunks_total: string;
  chunks_done: string;
  chunks_from_store: string;
  networks_done: string;
  networks_total: string;
}

/** The Job message. */
export interface JobMessage {
  name: string;
  state: JobState;
  digest: string;
  request_id: string;
  priority: number;
  progress: Progress | null;
  error_code: number;
  error_message: string;
  submissions: string;
  spec: Spec | null;
  [field: string]: unknown;
}

export interface CallOptions {
  /** Deadline of the call in milliseconds; the client's default if absent. */
  timeoutMs?: number;
}

export interface ClientOptions {
  /** Sent as "authorization: Bearer <token>" on every call. */
  token?: string;
  /** false: plaintext; true: TLS with system roots; a PEM path; credentials. */
  tls?: boolean | string | ChannelCredentials;
  /** PEM roots verifying the server (a path, or the PEM bytes): TLS on. */
  ca?: string | Uint8Array;
  /** Client certificate chain (path or PEM bytes), with `key`, for servers
   * started with --tls_client_ca. */
  cert?: string | Uint8Array;
  /** Private key of `cert` (path or PEM bytes). */
  key?: string | Uint8Array;
  /** Default deadline of each unary call in milliseconds (30000). */
  timeoutMs?: number;
  /** Directory holding nnft/v1/*.proto (default: $NNFT_PROTO_DIR or the checkout's). */
  protoDir?: string;
  channelOptions?: ChannelOptions;
}

export interface SubmitOptions extends CallOptions {
  /** Makes the call idempotent; generated when absent. */
  requestId?: string;
  /** In [-1000, 1000]; higher runs first. */
  priority?: number;
}

export interface Comparison {
  chi2: number;
  dof: number;
  chi2PerDof: number;
  maxAbsZ: number;
}

/** |G^(n)_c| = amplitude * N^exponent at one tuple, fitted by the server. */
export interface PowerLawFit {
  tuple: number[];
  order: number;
  exponent: number;
  exponentStderr: number;
  amplitude: number;
  amplitudeStderr: number;
  chi2: number;
  dof: number;
  chi2PerDof: number;
  widthsUsed: number;
  widthsDropped: number;
  expectedExponent: number;
  z: number;
}

/** One width of a sweep; arrays are parallel over `tuples`. */
export interface SweepWidth {
  width: number;
  tuples: number[][];
  mean: Float64Array;
  stderr: Float64Array;
  connected: Float64Array;
  connectedStderr: Float64Array;
  gp: Float64Array;
  gpConnected: Float64Array;
  exact: Float64Array;
  exactConnected: Float64Array;
  zExact: Float64Array;
  zExactConnected: Float64Array;
  zGp: Float64Array;
  /** m_n = |G - G_GP| / |G_GP| and its background stderr / |G_GP|. */
  deviation: Float64Array;
  deviationBackground: Float64Array;
}

export interface SweepResult {
  widths: number[];
  perWidth: SweepWidth[];
  fits: PowerLawFit[];
  fitMethod: string;
}

/** A value with its standard error and its exact value (NaN if unknown). */
export interface Measured {
  value: number;
  stderr: number;
  exact: number;
}

export interface ConformalFourPoint {
  /** i < j < k < l */
  index: number[];
  /** Cross ratios u = x12^2 x34^2 / (x13^2 x24^2), v = x14^2 x23^2 / (x13^2 x24^2). */
  u: number;
  v: number;
  g4: Measured;
  g4Connected: Measured;
  /** g(u, v) = G4 / (X12 X34). */
  g: Measured;
}

export interface ConformalCheck {
  transformation: string;
  dof: number;
  chi2PerDof: number;
  maxAbsZ: number;
  /** max |z| < 3 */
  passed: boolean;
  note: string;
}

/** The null-cone field's correlators (ConformalResult); columns are parallel over fourPoint. */
export interface ConformalResult {
  dimension: number;
  mu2: Measured;
  mu4: Measured;
  mu4Mixed: Measured;
  twoPoint: { i: number; j: number; g2: Measured }[];
  fourPoint: ConformalFourPoint[];
  twoPointOmitted: number;
  fourPointOmitted: number;
  u: Float64Array;
  v: Float64Array;
  g: Float64Array;
  gStderr: Float64Array;
  gExact: Float64Array;
  g4: Float64Array;
  g4Stderr: Float64Array;
  g4Exact: Float64Array;
  g4Connected: Float64Array;
  g4ConnectedStderr: Float64Array;
  g4ConnectedExact: Float64Array;
  /** Conformal covariance checks (translation, rotation, dilatation, inversion, special conformal). */
  checks: ConformalCheck[];
}

/** One reflection-positivity matrix; matrices row-major size x size, eigenvalues ascending. */
export interface RpMatrix {
  size: number;
  matrix: Float64Array;
  eigenvalues: Float64Array;
  eigenvalueStderr: Float64Array;
  minEigenvalue: number;
  minStderr: number;
  /** minEigenvalue / minStderr */
  z: number;
  verdict: 'holds' | 'violated' | 'inconclusive' | string;
  /** Phi(-z): chance the true smallest eigenvalue is negative. */
  pNegative: number;
  hasExact: boolean;
  exactMatrix: Float64Array;
  exactEigenvalues: Float64Array;
}

export interface ReflectionResult {
  axis: number;
  zThreshold: number;
  /** The positive-half-space points x_1..x_Q. */
  points: number[][];
  twoPoint: RpMatrix | null;
  /** Present with includeFourPoint. */
  fourPoint: RpMatrix | null;
}

/** Effective coupling lambda(cutoff) (spec.effectiveCoupling). */
export interface EffectiveCouplingResult {
  cutoffs: Float64Array;
  lambda: Float64Array;
  lambdaStderr: Float64Array;
  tuplesUsed: number[];
  /** d log|lambda| / d log cutoff */
  slope: number;
  slopeStderr: number;
  vertexTuples: number[][];
  vertex: Float64Array;
  vertexStderr: Float64Array;
  method: string;
  /** Set when the analysis could not run. */
  error: string;
}

/** ReweightSummary as sent (spec.insertion). */
export interface ReweightSummary {
  lambda: number;
  ess: number;
  ess_fraction: number;
  ess_warning: boolean;
  warning: string;
  mean_action: number;
  mean_action_weighted: number;
}

/** Distribution of the training loss over the ensemble at one time (spec.training.lossHistogram). */
export interface LossHistogram {
  /** bins + 1 log-spaced edges from min to max. */
  edges: Float64Array;
  /** Networks with the loss in [edges[k], edges[k + 1]). */
  counts: Float64Array;
  /** Networks with loss < min, and with loss >= max (or not finite). */
  underflow: number;
  overflow: number;
  quantileLevels: Float64Array;
  /** Loss quantiles from the histogram (log-linear in a bin; NaN outside the edges). */
  quantiles: Float64Array;
}

/** The training flow at one time; sigma arrays are P x P row-major. */
export interface TrainingTime {
  index: number;
  t: number;
  lossMean: number;
  lossStderr: number;
  /** Spread of the loss over the ensemble. */
  lossStd: number;
  numPoints: number;
  mu: Float64Array;
  muStderr: Float64Array;
  /** Infinite-width linearised flow (NaN where unknown). */
  muTheory: Float64Array;
  sigma: Float64Array;
  sigmaStderr: Float64Array;
  sigmaTheory: Float64Array;
  lossHistogram: LossHistogram | null;
}

export interface EmpiricalNtk {
  numPoints: number;
  mean: Float64Array;
  stderr: Float64Array;
  std: Float64Array;
  theory: Float64Array;
}

/** A training job's flow; columns are parallel over times. */
export interface TrainingFlow {
  theoryMethod: string;
  times: TrainingTime[];
  t: Float64Array;
  lossMean: Float64Array;
  lossStderr: Float64Array;
  lossStd: Float64Array;
  numPoints: number;
  /** At initialisation, when requested (P x P row-major). */
  empiricalNtk: EmpiricalNtk | null;
}

/** One symmetry check: G(transformed) - G(original) per requested tuple. */
export interface SymmetryResult {
  label: string;
  /** rotation, translation, reflection, coordinate_permutation,
   *  phi_sign_flip or output_rotation. */
  kind: string;
  tuples: number[][];
  difference: Float64Array;
  stderr: Float64Array;
  z: Float64Array;
  chi2: number;
  dof: number;
  chi2PerDof: number;
  maxAbsZ: number;
  /** Bonferroni threshold on max |z| (1% family-wise). */
  zThreshold: number;
  consistent: boolean;
  numTuples: number;
  /** Hotelling's T^2 of the differences over their covariance (NaN when
   *  dof >= the number of bins). */
  hotellingT2: number;
  /** Its p-value: uniform under an exact invariance, whatever the entries'
   *  correlations (chi2 is not chi^2(dof): they share networks). */
  pValue: number;
}

export interface DecayFit {
  model: string;
  amplitude: number;
  scale: number;
  scaleStderr: number;
  chi2PerDof: number;
  points: number;
}

/** Cluster check: D(s) = G4(xi, xj, xk + s u, xl + s u) - G2 G2. */
export interface ClusterResult {
  label: string;
  separations: Float64Array;
  value: Float64Array;
  stderr: Float64Array;
  theory: Float64Array;
  theoryKind: string;
  zTheory: Float64Array;
  exponential: DecayFit | null;
  gaussian: DecayFit | null;
  power: DecayFit | null;
  preferred: string;
  zLast: number;
}

/** A job's full result; arrays are parallel over `tuples`. */
export class Result {
  readonly job: JobMessage;
  readonly name: string;
  readonly tuples: number[][];
  readonly orders: number[];
  readonly mean: Float64Array;
  readonly stderr: Float64Array;
  readonly connected: Float64Array;
  readonly connectedStderr: Float64Array;
  readonly gp: Float64Array;
  readonly gpConnected: Float64Array;
  readonly exact: Float64Array;
  readonly exactConnected: Float64Array;
  readonly zExact: Float64Array;
  readonly zExactConnected: Float64Array;
  readonly zGp: Float64Array;
  /** Finite-width theory at leading order in 1/width (deep MLPs), not
   * exact. */
  readonly theoryLeadingOrder: boolean;
  /** Per entry: 'OK', 'FEW_BINS', 'HEAVY_TAILED', 'NO_ERROR' ('' when the
   * server sent none); anything but 'OK' means the error bar may not be
   * trusted. */
  readonly verdict: string[];
  /** Per entry: why the verdict is not 'OK' ('' when it is). */
  readonly verdictReason: string[];
  /** Per entry: the EntryReliability message (dof, t95, skewness_z,
   * kurtosis_z, max_bin_share), or null. */
  readonly reliability: Array<{ verdict: string; reason: string; dof: number;
    t95: number; skewness_z: number; kurtosis_z: number;
    max_bin_share: number } | null>;
  /** The P x P NNGP kernel, row-major. */
  readonly kernel: Float64Array;
  readonly numPoints: number;
  readonly points: number[][];
  readonly spec: Spec | null;
  readonly numEntries: number;
  readonly networks: number;
  readonly chunks: number;
  readonly bins: number;
  /** A uint64 as a decimal string. */
  readonly seed: string;
  readonly theoryMethod: string;
  readonly hasExact: boolean;
  readonly vsExact: Comparison | null;
  readonly vsGp: Comparison | null;
  readonly vsExactConnected: Comparison | null;
  readonly engineFingerprint: string;
  /** Width-sweep jobs only (the arrays above are then empty). */
  readonly sweep: SweepResult | null;
  /** "training" for a training job (entries empty), else "correlators". */
  readonly kind: 'training' | 'correlators';
  readonly training: TrainingFlow | null;
  readonly conformal: ConformalResult | null;
  readonly reflection: ReflectionResult | null;
  readonly effectiveCoupling: EffectiveCouplingResult | null;
  readonly reweight: ReweightSummary | null;
  /** spec.insertion only (NaN otherwise): unweighted G, shift = reweighted - free, tadpole. */
  readonly freeMean: Float64Array;
  readonly freeStderr: Float64Array;
  readonly shift: Float64Array;
  readonly shiftStderr: Float64Array;
  readonly firstOrderShift: Float64Array;
  /** spec.symmetry_checks and spec.cluster_checks results, in order. */
  readonly symmetry: SymmetryResult[];
  readonly cluster: ClusterResult[];
  readonly length: number;
  /** Position of a tuple (indices in any order), or -1. */
  indexOf(tuple: number[]): number;
}

/** One update of a watched job. */
export class Snapshot {
  readonly job: JobMessage;
  readonly state: JobState;
  readonly chunksDone: number;
  readonly chunksTotal: number;
  readonly networksDone: number;
  readonly networksTotal: number;
  readonly maxStderr: number;
  readonly tuples: number[][];
  readonly mean: Float64Array;
  readonly stderr: Float64Array;
  /** Width sweeps: widths with an estimate so far, and the fits so far. */
  readonly sweepWidths: number[];
  readonly sweepFits: PowerLawFit[];
  /** Training jobs: the flow so far (all times, first 8 points; no NTK). */
  readonly training: TrainingFlow | null;
  readonly reweight: ReweightSummary | null;
  /** Share of the chunks done, in [0, 1]. */
  readonly fraction: number;
}

export class Job {
  readonly name: string;
  readonly state: JobState;
  readonly progress: Progress | null;
  readonly done: boolean;
  job: JobMessage;
  spec: Spec | null;
  requestId: string;
  resubmissions: number;
  refresh(opts?: CallOptions): Promise<Job>;
  cancel(opts?: CallOptions): Promise<Job>;
  delete(opts?: CallOptions): Promise<void>;
  /** Snapshots until the job ends; DEADLINE_EXCEEDED after timeoutMs. */
  watch(opts?: { maxEntries?: number; timeoutMs?: number }): AsyncGenerator<Snapshot, void, void>;
  wait(opts?: CallOptions): Promise<JobMessage>;
  /** Rejects with NnftError: the job's status (FAILED), CANCELLED or DEADLINE_EXCEEDED. */
  result(opts?: CallOptions): Promise<Result>;
  throwUnlessSucceeded(): void;
}

/** ComputeKernel's answer. */
export class Kernel {
  readonly numPoints: number;
  readonly kernel: Float64Array;
  readonly tuples: number[][];
  readonly gp: Float64Array;
  readonly gpConnected: Float64Array;
  readonly exact: Float64Array;
  readonly exactConnected: Float64Array;
  readonly hasExact: boolean;
  readonly method: string;
  /** Theta(x_i, x_j), row-major P x P (NTK parameterisation); null when absent. */
  readonly ntk: Float64Array | null;
  /** Why ntk is null ("" when given). */
  readonly ntkAbsentReason: string;
  /** Q, the cross points of the request. */
  readonly numCrossPoints: number;
  /** K(x_i, y_j), row-major P x Q; null without cross points or a known kernel. */
  readonly crossKernel: Float64Array | null;
  readonly crossKernelAbsentReason: string;
  /** Theta(x_i, y_j), row-major P x Q; null without cross points or the NTK. */
  readonly crossNtk: Float64Array | null;
  /** With a training spec: the theory-only prediction; else null. */
  readonly prediction: Prediction | null;
}

/**
 * The infinite-width prediction of the trained ensemble (no Monte Carlo) at
 * M = P + Q points (the spec's, then the cross points), row-major.
 */
export class Prediction {
  /** T recorded times (training time, eta * steps). */
  readonly times: Float64Array;
  /** M. */
  readonly numPoints: number;
  /** mu_t, T x M. */
  readonly mean: Float64Array;
  /** Sigma_t, T x M x M. */
  readonly covariance: Float64Array;
  /** E[L_t], T values. */
  readonly loss: Float64Array;
  /** 2 / lambda_max: gradient descent diverges for eta at or above it. */
  readonly maxStableEta: number;
  readonly method: string;
}

export class Client {
  constructor(address: string, opts?: ClientOptions);
  readonly address: string;
  timeoutMs: number;
  close(): void;
  /** spec: a JSON-form object, a JSON file path or JSON text. */
  submit(spec: Spec | string, opts?: SubmitOptions): Promise<Job>;
  /** One SubmitBatch call: per spec its Job or that entry's NnftError. */
  submitBatch(specs: Array<Spec | string>, opts?: SubmitOptions): Promise<Array<Job | NnftError>>;
  job(name: string, opts?: CallOptions): Promise<Job>;
  /** Oldest first; `states` keeps only jobs in those states. */
  jobs(opts?: CallOptions & { pageSize?: number; states?: JobState[]; limit?: number }): Promise<Job[]>;
  /** crossPoints: a second point set (each d numbers). */
  kernel(spec: Spec | string, opts?: CallOptions & { crossPoints?: number[][] }): Promise<Kernel>;
  info(opts?: CallOptions): Promise<Record<string, unknown>>;
}

/** Every failure of a call or a job. */
export class NnftError extends Error {
  /** The gRPC status name, e.g. "INVALID_ARGUMENT". */
  readonly status: string;
  /** The numeric gRPC status code. */
  readonly code: number;
  /** The server's message (names the field and its allowed range). */
  readonly details: string;
}

export function toSpec(spec: Spec | string): Spec;
export function loadProtos(protoDir?: string): any;
export const status: Record<string, number>;

/** Points: numbers (d = 1) or arrays of d numbers. */
export type Points = ReadonlyArray<number | ReadonlyArray<number>>;
/** An enum value: a short name in any case ('relu'), the full name
 * ('ACTIVATION_RELU') or its number. */
export type EnumName = string | number;

/** Options every architecture builder takes. */
export interface CommonOptions {
  orders?: number[];
  tuples?: number[][];
  seed?: number | string;
  numNetworks?: number | string;
  chunkSize?: number;
  precision?: EnumName;
  integrateOutputLayer?: boolean;
  targetStderr?: number;
  label?: string;
}

export interface MlpOptions extends CommonOptions {
  activation?: EnumName;
  /** L + 1 values or one number (default all 1). */
  sw?: number | number[];
  /** L + 1 values or one number (default (0.5, 0, ..., 0)). */
  sb?: number | number[];
  firstBias?: EnumName;
}

/** Spec builders (lib/builders.js); each returns a JSON-form spec. */
export namespace experiments {
  const DEFAULT_FIRST_LAYER_BIAS: number;
  function linePoints(num: number, start?: number, stop?: number,
                      dim?: number): number[][];
  function mlp(widths: number | number[], points: Points,
               opts?: MlpOptions): Spec;
  function gaussNet(width: number, points: Points, opts?: CommonOptions & {
    sw0?: number; sb0?: number; sw1?: number; sb1?: number }): Spec;
  function cosNet(width: number, points: Points, opts?: CommonOptions & {
    mass?: number; cutoff?: number; sa?: number; boxSide?: number }): Spec;
  function phi4Box(width: number, points: Points, opts: CommonOptions & {
    boxSide: number; lam: number; mass?: number; cutoff?: number;
    essWarningFraction?: number }): Spec;
  function conv1d(channels: number, points: Points, opts?: CommonOptions & {
    activation?: EnumName; sequenceLength?: number; inChannels?: number;
    kernelSize?: number; layers?: number; padding?: EnumName;
    outputPosition?: number; sw?: number | number[];
    sb?: number | number[] }): Spec;
  function attention(heads: number, points: Points, opts: CommonOptions & {
    sequenceLength: number; headDim?: number; outputPosition?: number;
    outputComponent?: number; sq?: number; sk?: number; sv?: number;
    so?: number; sb?: number }): Spec;
  function kan(width: number, points: Points, opts?: CommonOptions & {
    gridSize?: number; splineOrder?: number; gridRange?: number;
    baseActivation?: EnumName; sa0?: number; sc0?: number; sa1?: number;
    sc1?: number }): Spec;
  function nullCone(points: Points, opts?: CommonOptions & {
    law?: EnumName; scale?: number; radii?: number[];
    radialWeights?: number[] }): Spec;
  function ouNet(widths: number | number[], times: Points,
                 opts?: MlpOptions & { tau?: number; sigma?: number }): Spec;
  function widthSweep(spec: Spec, widths: number[]): Spec;
  function deformed(spec: Spec, opts: { s: number; lam: number;
                                        layer?: number }): Spec;
  function insertion(spec: Spec, lam: number,
                     opts?: { essWarningFraction?: number }): Spec;
  function effectiveCoupling(spec: Spec, cutoffs?: number[],
                             opts?: { amputatedVertex?: boolean }): Spec;
  function training(spec: Spec, opts: {
    x?: Points; y?: number[]; generator?: { n: number; seed?: number | string };
    times?: number[]; eta?: number; method?: EnumName; tolerance?: number;
    lastLayerOnly?: boolean; parameterisation?: EnumName;
    empiricalNtk?: boolean;
    lossHistogram?: { bins?: number; min?: number; max?: number } }): Spec;
  function reflectionPositivity(spec: Spec, points: Points, opts?: {
    axis?: number; includeFourPoint?: boolean; zThreshold?: number }): Spec;
  function symmetry(spec: Spec, opts: {
    rotation?: number[][]; translation?: number[]; reflectionAxis?: number;
    phiSignFlip?: boolean; outputRotation?: number[][];
    coordinatePermutation?: number[]; label?: string }): Spec;
  function cluster(spec: Spec, points: number[], direction: number[],
                   separations: number[],
                   opts?: { component?: number; label?: string }): Spec;
}
