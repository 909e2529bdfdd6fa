import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { InferenceWorkerMode } from '../config.js';
import { AppError } from '../errors.js';
import { validationMessage } from '../validation-message.js';
import { type BatchOptions, createBatcher } from './batcher.js';
import { type ModelManifest, modelManifestSchema } from './manifest.js';
import { createPredictionCache, type PredictionCache } from './prediction-cache.js';
import type { ModelLocation } from './registry.js';
import { inlineRunner, startWorkerRunner, type TensorRunner } from './worker-runner.js';

export const PROBABILITIES_OUTPUT = 'probabilities';

export interface TensorInfo {
  name: string;
  datatype: string;
  shape: number[];
}

/** One model version held in memory with its own ONNX session. */
export interface HostedVersion {
  model: string;
  version: string;
  manifest: ModelManifest;
  /** SHA-256 (hex) of the model.onnx bytes this session was created from. */
  sha256: string;
  features: readonly string[];
  labels: readonly string[];
  input: TensorInfo;
  outputs: TensorInfo[];
  /** Where the session runs, and what one row cost when it was loaded (median of warm runs). */
  inference: { placement: 'inline' | 'worker'; singleRowUs: number };
  /** Row-major features in, row-major probabilities (labels.length per row) out. */
  run(features: Float32Array, rows: number): Promise<Float32Array>;
  /** Last results of repeated input rows (MODELGATE_CACHE_ROWS); undefined when off. */
  cache: PredictionCache | undefined;
  release(): Promise<void>;
}

const ORT_TO_OIP: Record<string, string> = {
  float32: 'FP32',
  float64: 'FP64',
  int64: 'INT64',
  int32: 'INT32',
  string: 'BYTES',
  bool: 'BOOL',
};

/**
 * A model on disk that cannot be served is the server's fault, not the caller's: a 500.
 * `graph` says what the ONNX graph has when the contract with model.json is the problem.
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

function readManifest(location: ModelLocation): ModelManifest {
  modelFile(location);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(location.dir, 'model.json'), 'utf8'));
  } catch (error) {
    throw loadFailed(location, `model.json: ${(error as Error).message}`);
  }
  const parsed = modelManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw loadFailed(location, `model.json ${validationMessage(parsed.error.issues, 'top level')}`);
  }
  return parsed.data;
}

function tensorInfo(metadata: ort.InferenceSession.ValueMetadata): TensorInfo {
  if (!metadata.isTensor) return { name: metadata.name, datatype: 'UNKNOWN', shape: [] };
  return {
    name: metadata.name,
    datatype: ORT_TO_OIP[metadata.type] ?? metadata.type.toUpperCase(),
    shape: metadata.shape.map((dim) => (typeof dim === 'number' ? dim : -1)),
  };
}

export const sha256Of = (bytes: Uint8Array): string =>
  createHash('sha256').update(bytes).digest('hex');

/** Where a version's graph is; its absence is a 404 (the version is not on this disk). */
export function modelFile(location: ModelLocation): string {
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

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
};

/**
 * With `MODELGATE_INFERENCE_WORKER=auto`, a version whose single-row run takes at least this
 * long runs on a worker thread. Below it, the hop to the worker (two structured clones and a
 * wake-up, ~30–60 µs here) costs more than the event-loop time it frees; see BENCHMARKS.md.
 */
export const WORKER_THRESHOLD_US = 250;
const TIMING_RUNS = 5;

/** Median wall time of a few single-row runs, in µs: the cost the event loop would carry. */
async function timeSingleRow(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < TIMING_RUNS; i++) {
    const start = performance.now();
    await run();
    times.push((performance.now() - start) * 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(TIMING_RUNS / 2)] ?? 0;
}

export function placeInference(
  mode: InferenceWorkerMode,
  singleRowUs: number,
): 'inline' | 'worker' {
  if (mode === 'on') return 'worker';
  if (mode === 'off') return 'inline';
  return singleRowUs >= WORKER_THRESHOLD_US ? 'worker' : 'inline';
}

/**
 * Creates the session, checks it matches model.json, warms and times it, and moves it to a
 * worker thread when that pays (see placeInference).
 */
export async function loadVersion(
  location: ModelLocation,
  batch: BatchOptions,
  inferenceWorker: InferenceWorkerMode = 'auto',
  cacheRows = 0,
): Promise<HostedVersion> {
  const manifest = readManifest(location);
  const [declared] = manifest.inputs;
  if (!declared) throw loadFailed(location, 'model.json declares no input');
  // One read: the hash names exactly the bytes the session is created from.
  const bytes = readFileSync(modelFile(location));
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  } catch (error) {
    throw loadFailed(location, (error as Error).message);
  }
  const inputs = session.inputMetadata.map(tensorInfo);
  const outputs = session.outputMetadata.map(tensorInfo);
  const problem =
    inputs.length !== 1 || inputs[0]?.name !== declared.name
      ? `the graph's inputs ${JSON.stringify(inputs.map((i) => i.name))} do not match model.json input "${declared.name}"`
      : !outputs.some((o) => o.name === PROBABILITIES_OUTPUT)
        ? `the graph has no "${PROBABILITIES_OUTPUT}" output`
        : undefined;
  if (problem) {
    await session.release();
    throw loadFailed(location, problem, { inputs, outputs });
  }

  const width = declared.features.length;
  const classes = manifest.labels.length;
  let runner: TensorRunner = inlineRunner(session);
  const runOnce = async (features: Float32Array, rows: number): Promise<Float32Array> => {
    const tensor = new ort.Tensor('float32', features, [rows, width]);
    const result = await runner.run({ [declared.name]: tensor }, [PROBABILITIES_OUTPUT]);
    const probabilities = result[PROBABILITIES_OUTPUT];
    if (!probabilities || probabilities.data.length !== rows * classes) {
      throw new Error(
        `model returned ${probabilities?.data.length ?? 0} probabilities for ${rows} rows × ${classes} labels`,
      );
    }
    return probabilities.data as Float32Array;
  };
  let singleRowUs: number;
  try {
    await runOnce(new Float32Array(width), 1);
    singleRowUs = await timeSingleRow(() => runOnce(new Float32Array(width), 1));
  } catch (error) {
    await session.release();
    throw loadFailed(location, `warm-up run failed: ${(error as Error).message}`);
  }
  const placement = placeInference(inferenceWorker, singleRowUs);
  if (placement === 'worker') {
    try {
      runner = await startWorkerRunner({
        model: bytes,
        options: SESSION_OPTIONS,
      });
    } catch (error) {
      await session.release();
      throw loadFailed(location, (error as Error).message);
    }
    // The worker holds its own session; this one only served to check and time the graph.
    await session.release();
  }
  const run = createBatcher(runOnce, width, classes, {
    ...batch,
    oneInFlight: placement === 'worker',
  });
  // Made with the session and dropped with it: a reload or unload leaves no stale answer.
  const cache = cacheRows > 0 ? createPredictionCache(cacheRows, width, classes) : undefined;

  return {
    model: location.model,
    version: location.version,
    manifest,
    sha256: sha256Of(bytes),
    features: declared.features,
    labels: manifest.labels,
    input: { name: declared.name, datatype: declared.datatype, shape: [-1, width] },
    outputs,
    inference: { placement, singleRowUs },
    run,
    cache,
    release: () => {
      cache?.clear();
      return runner.release();
    },
  };
}
