import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { InferenceWorkerMode } from '../config.js';
import { AppError } from '../errors.js';
import { validationMessage } from '../validation-message.js';
import {
  type BatchOptions,
  type BatchRunner,
  createBatcher,
  type ModelInputs,
  type ModelOutputs,
} from './batcher.js';
import {
  type Contract,
  ContractProblem,
  type InputBinding,
  inferContract,
  type TensorInfo,
} from './contract.js';
import { allocate, elementTypeOfOrt, ORT_TYPE_OF } from './element-types.js';
import { readGraph } from './graph-facts.js';
import { type ModelManifest, modelManifestSchema, type Task } from './manifest.js';
import { firstImproperRow, toLabelStrings, toProbabilities } from './output-reading.js';
import { createPredictionCache, type PredictionCache } from './prediction-cache.js';
import type { ModelLocation } from './registry.js';
import {
  inlineRunner,
  startWorkerRunner,
  type TensorRunner,
  type WorkerHealth,
} from './worker-runner.js';

export type { TensorInfo } from './contract.js';

/** One model version held in memory with its own ONNX session. */
export interface HostedVersion {
  model: string;
  version: string;
  manifest: ModelManifest;
  /** SHA-256 (hex) of the model.onnx bytes this session was created from. */
  sha256: string;
  contract: Contract;
  task: Task;
  features: readonly string[];
  /** Empty for regressors. */
  labels: readonly string[];
  /** The graph inputs the gateway feeds, in the graph's order. */
  inputs: readonly InputBinding[];
  /** The graph's outputs as served (a ZipMap's input in place of the ZipMap). */
  outputs: TensorInfo[];
  /**
   * Where the session runs, what one row cost when it was loaded (least of nine warm runs), and
   * for a worker thread whether it is up and how often it was started again.
   */
  inference: {
    placement: 'inline' | 'worker';
    singleRowUs: number;
    worker(): WorkerHealth | null;
  };
  /**
   * One value array per input in, and out: probabilities (labels.length per row) for
   * classifiers, one value per row for regressors, plus the graph's label per row if it has one.
   */
  run: BatchRunner;
  /**
   * The same ONNX call without the live batcher's queue (replay): rows given here never
   * wait in, or lengthen, a batch of live requests. On a worker thread they still share
   * its one session, one call at a time, so callers keep their batches small.
   */
  runDirect: BatchRunner;
  /**
   * Last probabilities of repeated input rows (MODELGATE_CACHE_ROWS); undefined when off,
   * and for graphs with several inputs, a label output or a regression value (keyed on one
   * FP32 row, it holds probabilities only).
   */
  cache: PredictionCache | undefined;
  release(): Promise<void>;
}

/**
 * A model on disk that cannot be served is the server's fault, not the caller's: a 500.
 * `graph` says what the ONNX graph has when the contract is the problem.
 */
export class ModelLoadError extends AppError {
  constructor(
    message: string,
    readonly graph?: { inputs: TensorInfo[]; outputs: TensorInfo[] },
  ) {
    super(500, 'model_load_failed', message);
  }
}

const loadFailed = (
  location: ModelLocation,
  why: string,
  graph?: { inputs: TensorInfo[]; outputs: TensorInfo[] },
) => new ModelLoadError(`cannot load ${location.model}/${location.version}: ${why}`, graph);

/** model.json is optional: without one the graph says everything. */
export function readManifest(dir: string, name = 'model.json'): ModelManifest {
  const path = join(dir, name);
  if (!existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ContractProblem(`model.json: ${(error as Error).message}`);
  }
  const parsed = modelManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ContractProblem(`model.json ${validationMessage(parsed.error.issues, 'top level')}`);
  }
  return parsed.data;
}

function tensorInfo(metadata: ort.InferenceSession.ValueMetadata): TensorInfo {
  if (!metadata.isTensor) return { name: metadata.name, datatype: 'NON_TENSOR', shape: [] };
  return {
    name: metadata.name,
    datatype: elementTypeOfOrt(metadata.type) ?? metadata.type.toUpperCase(),
    shape: metadata.shape.map((dim) => (typeof dim === 'number' ? dim : -1)),
  };
}

/**
 * One intra-op thread by default: a session's run then stays on the thread that calls it, and
 * a slow model is moved to a worker thread instead (see placeInference). MODELGATE_INTRA_OP_THREADS
 * gives each session more; the bench compares both on the heavy model (BENCHMARKS.md).
 */
const sessionOptions = (intraOpThreads = 1): ort.InferenceSession.SessionOptions => ({
  intraOpNumThreads: intraOpThreads,
  interOpNumThreads: 1,
});

/**
 * With `MODELGATE_INFERENCE_WORKER=auto`, a version whose single-row run takes at least this
 * long runs on a worker thread. Below it, the hop to the worker (two structured clones and a
 * wake-up, ~30–60 µs here) costs more than the event-loop time it frees; see BENCHMARKS.md.
 */
export const WORKER_THRESHOLD_US = 250;
const TIMING_RUNS = 9;

/**
 * The cost of one single-row run, in µs: the time the event loop would carry. The least of a
 * few runs, each counting the lesser of its wall time and the process's CPU time. A run can
 * only look slower than it is: on a busy machine the thread is descheduled mid-run (wall time
 * grows), other threads' work lands in the process's CPU time, and the await spans an
 * event-loop turn that may run other callbacks. A median of wall times put iris (~12 µs) on a
 * worker thread at a load average of 8–10 (seen in a CPU profile of the bench).
 */
async function timeSingleRow(run: () => Promise<unknown>): Promise<number> {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < TIMING_RUNS; i++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await run();
    const wallUs = (performance.now() - start) * 1000;
    const used = process.cpuUsage(cpu);
    least = Math.min(least, wallUs, used.user + used.system);
  }
  return least;
}

export function placeInference(
  mode: InferenceWorkerMode,
  singleRowUs: number,
): 'inline' | 'worker' {
  if (mode === 'on') return 'worker';
  if (mode === 'off') return 'inline';
  return singleRowUs >= WORKER_THRESHOLD_US ? 'worker' : 'inline';
}

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Where a version's graph is; its absence is a 404 (the version is not on this disk). */
function modelFile(location: ModelLocation): string {
  const file = join(location.dir, 'model.onnx');
  if (!existsSync(file)) {
    throw new AppError(
      404,
      'version_not_found',
      `${location.model}/${location.version}: no model.onnx in ${location.dir}`,
    );
  }
  return file;
}

/** SHA-256 of the version's model.onnx as it is on disk now. */
export const fileSha256 = (location: ModelLocation): string =>
  sha256Of(readFileSync(modelFile(location)));

/** A session over the graph (ZipMap removed), its actual inputs/outputs and, if it fits, its contract. */
export interface OpenedGraph {
  session: ort.InferenceSession;
  /** The graph as the session runs it (ZipMap removed), for a worker thread's own session. */
  bytes: Uint8Array;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  contract: Contract;
}

export class GraphProblem extends Error {
  constructor(
    message: string,
    readonly graph?: { inputs: TensorInfo[]; outputs: TensorInfo[] },
  ) {
    super(message);
  }
}

/** Creates the session and infers the contract; throws GraphProblem with the graph when it does not fit. */
export async function openGraph(
  file: Uint8Array,
  manifest: ModelManifest,
  options: ort.InferenceSession.SessionOptions = sessionOptions(),
): Promise<OpenedGraph> {
  let session: ort.InferenceSession;
  let facts: ReturnType<typeof readGraph>['facts'];
  let bytes: Uint8Array;
  try {
    const graph = readGraph(file);
    facts = graph.facts;
    bytes = graph.bytes;
    session = await ort.InferenceSession.create(graph.bytes, options);
  } catch (error) {
    throw new GraphProblem((error as Error).message);
  }
  const inputs = session.inputMetadata.map(tensorInfo);
  const outputs = session.outputMetadata.map(tensorInfo);
  try {
    const contract = inferContract({ inputs, outputs, facts }, manifest);
    return { session, bytes, inputs, outputs, contract };
  } catch (error) {
    await session.release();
    const message = error instanceof ContractProblem ? error.message : String(error);
    throw new GraphProblem(message, { inputs, outputs });
  }
}

/** One ONNX call: feeds each input, reads the contract's outputs, applies its transform. */
export function createRunner(session: Pick<TensorRunner, 'run'>, contract: Contract): BatchRunner {
  const { reading, inputs: bindings } = contract;
  const scoresName = reading.task === 'classification' ? reading.scores : reading.value;
  const rawColumns = reading.task === 'classification' ? reading.columns : 1;
  const labelName = reading.task === 'classification' ? reading.label : null;
  return async (inputs: ModelInputs, rows: number): Promise<ModelOutputs> => {
    const feeds: Record<string, ort.Tensor> = {};
    bindings.forEach((binding, i) => {
      const dims = binding.shape.length === 1 ? [rows] : [rows, binding.columns];
      feeds[binding.name] = new ort.Tensor(
        ORT_TYPE_OF[binding.datatype],
        inputs[i] as ort.Tensor.DataType,
        dims,
      );
    });
    const result = await session.run(feeds, contract.fetch);
    const raw = result[scoresName]?.data;
    if (!(raw instanceof Float32Array || raw instanceof Float64Array)) {
      throw new Error(`model returned no float "${scoresName}" output`);
    }
    if (raw.length !== rows * rawColumns) {
      throw new Error(
        `model returned ${raw.length} values in "${scoresName}" for ${rows} rows × ${rawColumns}`,
      );
    }
    const labels = labelName ? toLabelStrings(result[labelName]?.data as ArrayLike<unknown>) : null;
    if (reading.task === 'regression') return { scores: raw, labels: null };
    return { scores: toProbabilities(raw, rows, reading.columns, reading.transform), labels };
  };
}

/** One row of zeros (empty strings, false) in the graph's input types, or the caller's probe. */
export function zeroRow(contract: Contract): ModelInputs {
  return contract.inputs.map((binding) => allocate(binding.datatype, binding.columns));
}

/**
 * Runs `inputs` once and checks the answer is what the contract says: probabilities
 * that are probabilities (logits read as probabilities are the classic mistake).
 */
export async function probe(
  runner: BatchRunner,
  contract: Contract,
  inputs: ModelInputs,
): Promise<ModelOutputs> {
  const outputs = await runner(inputs, 1);
  const { reading } = contract;
  if (reading.task === 'classification' && reading.transform === 'none') {
    const row = firstImproperRow(outputs.scores, contract.labels.length);
    if (row !== -1) {
      const values = [...outputs.scores].map((v) => Number(v.toPrecision(4)));
      throw new ContractProblem(
        `"${reading.scores}" is not a probability per class (${JSON.stringify(values)} does not sum to 1); if it holds logits, add to model.json: "output": {"name": "${reading.scores}", "transform": "${reading.columns === 1 ? 'sigmoid' : 'softmax'}"}`,
      );
    }
  }
  return outputs;
}

/**
 * Creates the session, infers the contract from the graph and model.json, warms and times
 * it, and moves it to a worker thread when that pays (see placeInference).
 */
export interface LoadOptions {
  /** Where the session runs (default `auto`: a worker thread for slow models). */
  inferenceWorker?: InferenceWorkerMode;
  /** Distinct input rows remembered (MODELGATE_CACHE_ROWS); 0 or unset = off. */
  cacheRows?: number;
  /** ONNX Runtime intra-op threads per session (MODELGATE_INTRA_OP_THREADS; default 1). */
  intraOpThreads?: number;
  /** Told when the version's worker thread stops unexpectedly (it is started again). */
  onWorkerStopped?: (reason: string, callsFailed: number) => void;
}

export async function loadVersion(
  location: ModelLocation,
  batch: BatchOptions,
  options: LoadOptions = {},
): Promise<HostedVersion> {
  const { inferenceWorker = 'auto', cacheRows = 0, onWorkerStopped } = options;
  const ortOptions = sessionOptions(options.intraOpThreads);
  // One read: the hash names exactly the bytes the session is created from.
  const file = readFileSync(modelFile(location));
  let manifest: ModelManifest;
  let opened: OpenedGraph;
  try {
    manifest = readManifest(location.dir);
    opened = await openGraph(file, manifest, ortOptions);
  } catch (error) {
    throw loadFailed(
      location,
      (error as Error).message,
      error instanceof GraphProblem ? error.graph : undefined,
    );
  }
  const { session, contract, inputs, outputs } = opened;
  let runner: TensorRunner = inlineRunner(session);
  // Through `runner`, so a move to a worker thread below takes this same code with it.
  const runOnce = createRunner({ run: (feeds, fetches) => runner.run(feeds, fetches) }, contract);
  let singleRowUs: number;
  try {
    await probe(runOnce, contract, zeroRow(contract));
    singleRowUs = await timeSingleRow(() => runOnce(zeroRow(contract), 1));
  } catch (error) {
    await session.release();
    const why = error instanceof ContractProblem ? '' : 'warm-up run failed: ';
    throw loadFailed(location, `${why}${(error as Error).message}`, { inputs, outputs });
  }
  const placement = placeInference(inferenceWorker, singleRowUs);
  if (placement === 'worker') {
    try {
      runner = await startWorkerRunner(
        { model: opened.bytes, options: ortOptions },
        { ...(onWorkerStopped ? { onStopped: onWorkerStopped } : {}) },
      );
    } catch (error) {
      await session.release();
      throw loadFailed(location, (error as Error).message);
    }
    // The worker holds its own session; this one only served to check and time the graph.
    await session.release();
  }
  const scoresPerRow = contract.task === 'classification' ? contract.labels.length : 1;
  const run = createBatcher(
    runOnce,
    contract.inputs.map((b) => b.datatype),
    scoresPerRow,
    { ...batch, oneInFlight: placement === 'worker' },
  );
  const [only] = contract.inputs;
  const cacheable =
    contract.inputs.length === 1 &&
    only?.datatype === 'FP32' &&
    contract.reading.task === 'classification' &&
    contract.reading.label === null;
  // Made with the session and dropped with it: a reload or unload leaves no stale answer.
  const cache =
    cacheRows > 0 && cacheable && only
      ? createPredictionCache(cacheRows, only.columns, scoresPerRow)
      : undefined;

  return {
    model: location.model,
    version: location.version,
    manifest,
    sha256: sha256Of(file),
    contract,
    task: contract.task,
    features: contract.features,
    labels: contract.labels,
    inputs: contract.inputs,
    outputs,
    inference: { placement, singleRowUs, worker: () => runner.health() },
    run,
    runDirect: runOnce,
    cache,
    release: () => {
      cache?.clear();
      return runner.release();
    },
  };
}
