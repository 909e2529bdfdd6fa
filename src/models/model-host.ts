import type { InferenceWorkerMode } from '../config.js';
import { AppError, modelNotFound, versionNotFound } from '../errors.js';
import { isName } from '../names.js';
import type { BatchOptions } from './batcher.js';
import {
  fileSha256,
  type HostedVersion,
  loadVersion,
  ModelLoadError,
  type TensorInfo,
} from './onnx-host.js';
import { compareVersions, locateVersion, type ModelLocation, scanModelsDir } from './registry.js';

/** A version found on disk that could not be loaded: skipped, reported in GET /models. */
export interface FailedVersion {
  model: string;
  version: string;
  reason: string;
  /** The graph's actual inputs and outputs, when they are what does not fit. */
  graph?: { inputs: TensorInfo[]; outputs: TensorInfo[] };
}

/** Every loaded model version in this process, by model and version. */
export interface ModelHost {
  readonly modelsDir: string;
  models(): string[];
  /** Loaded versions of `model`, naturally sorted. */
  versions(model: string): string[];
  loaded(model: string): ReadonlySet<string>;
  get(model: string, version: string): HostedVersion | undefined;
  /** Like get, but a 404 naming what is missing. */
  require(model: string, version: string): HostedVersion;
  /** Loads a version from the models directory unless it is loaded already (any file). */
  load(model: string, version: string): Promise<HostedVersion>;
  /** SHA-256 of the version's model.onnx on disk now (404 when it is not there). */
  fileSha256(model: string, version: string): string;
  /** SHA-256 of each loaded version's model.onnx, as loaded. */
  hashes(model: string): Record<string, string>;
  /**
   * A new session of the version as it is on disk, warmed, not yet serving: `install`
   * makes it serve in one step, or `release` drops it. A failure is reported (GET /models
   * `failed`, onLoadFailed) unless `report` is false: the caller then says it its own way.
   */
  open(model: string, version: string, options?: { report?: boolean }): Promise<HostedVersion>;
  /** Serves `version` from now on; a session it replaces is released once its requests drain. */
  install(version: HostedVersion): void;
  /** Versions that failed to load (at start or since), until one loads. */
  failures(): FailedVersion[];
  unload(model: string, version: string): Promise<void>;
  close(): Promise<void>;
}

export interface ModelHostOptions {
  batch: Omit<BatchOptions, 'onBatch' | 'oneInFlight'>;
  /** Where each version's session runs (default `auto`: a worker thread for slow models). */
  inferenceWorker?: InferenceWorkerMode;
  /** Distinct input rows remembered per version (MODELGATE_CACHE_ROWS); 0 or unset = off. */
  cacheRows?: number;
  /** ONNX Runtime intra-op threads per session (MODELGATE_INTRA_OP_THREADS; default 1). */
  intraOpThreads?: number;
  /** Told the size of every ONNX call per version, for the batch-size histogram. */
  onBatch?: (model: string, version: string, rows: number) => void;
  /** Told when a version's inference worker thread stops unexpectedly (it is started again). */
  onWorkerStopped?: (model: string, version: string, reason: string, callsFailed: number) => void;
  /** Told about every version that cannot be loaded (at start or later). */
  onLoadFailed?: (model: string, version: string, error: unknown) => void;
}

/** How long a replaced or unloaded session stays open for the requests already routed to it. */
const RELEASE_AFTER_MS = 5_000;

export async function createModelHost(
  modelsDir: string,
  options: ModelHostOptions,
): Promise<ModelHost> {
  const batchFor = (location: ModelLocation): BatchOptions => ({
    ...options.batch,
    onBatch: (rows) => options.onBatch?.(location.model, location.version, rows),
  });
  const hosted = new Map<string, Map<string, HostedVersion>>();
  const loading = new Map<string, Promise<HostedVersion>>();

  const add = (version: HostedVersion) => {
    const versions = hosted.get(version.model) ?? new Map<string, HostedVersion>();
    const replaced = versions.get(version.version);
    versions.set(version.version, version);
    hosted.set(version.model, versions);
    if (replaced && replaced !== version) releaseLater(replaced);
  };

  const checkNames = (model: string, version: string) => {
    for (const [field, value] of [
      ['model', model],
      ['version', version],
    ] as const) {
      if (!isName(value)) {
        throw new AppError(400, 'bad_request', `${field}: "${value}" is not a valid name`);
      }
    }
  };

  // Requests already routed to a session hold their own reference; release after they drain.
  const releaseLater = (version: HostedVersion) => {
    setTimeout(() => void version.release(), RELEASE_AFTER_MS).unref();
  };

  /** The one way a session is made here: every option of the host applies to every version. */
  const openAt = (location: ModelLocation) =>
    loadVersion(location, batchFor(location), {
      ...(options.inferenceWorker ? { inferenceWorker: options.inferenceWorker } : {}),
      ...(options.cacheRows ? { cacheRows: options.cacheRows } : {}),
      ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}),
      onWorkerStopped: (reason, callsFailed) =>
        options.onWorkerStopped?.(location.model, location.version, reason, callsFailed),
    });

  const failed = new Map<string, FailedVersion>();
  const recordFailure = (model: string, version: string, error: unknown) => {
    failed.set(`${model}/${version}`, {
      model,
      version,
      reason: error instanceof Error ? error.message : String(error),
      ...(error instanceof ModelLoadError && error.graph ? { graph: error.graph } : {}),
    });
    options.onLoadFailed?.(model, version, error);
  };

  // Sequential on purpose: session creation is CPU-bound and start-up order stays readable in logs.
  // One bad directory is skipped and reported; it does not take the other models down.
  for (const location of scanModelsDir(modelsDir)) {
    try {
      add(await openAt(location));
    } catch (error) {
      recordFailure(location.model, location.version, error);
    }
  }

  const host: ModelHost = {
    modelsDir,
    models: () => [...hosted.keys()].sort(),
    versions: (model) => [...(hosted.get(model)?.keys() ?? [])].sort(compareVersions),
    loaded: (model) => new Set(hosted.get(model)?.keys() ?? []),
    get: (model, version) => hosted.get(model)?.get(version),
    require(model, version) {
      const versions = hosted.get(model);
      if (!versions) throw modelNotFound(model);
      const found = versions.get(version);
      if (!found) throw versionNotFound(model, version);
      return found;
    },
    fileSha256(model, version) {
      checkNames(model, version);
      return fileSha256(locateVersion(modelsDir, model, version));
    },
    hashes: (model) =>
      Object.fromEntries(
        [...(hosted.get(model)?.values() ?? [])].map((v) => [v.version, v.sha256]),
      ),
    async open(model, version, { report = true } = {}) {
      checkNames(model, version);
      const location = locateVersion(modelsDir, model, version);
      try {
        return await openAt(location);
      } catch (error) {
        if (report) recordFailure(model, version, error);
        throw error;
      }
    },
    install(version) {
      failed.delete(`${version.model}/${version.version}`);
      add(version);
    },
    async load(model, version) {
      checkNames(model, version);
      const existing = hosted.get(model)?.get(version);
      if (existing) return existing;
      const key = `${model}/${version}`;
      // Two concurrent loads of one version share the same session instead of racing.
      let pending = loading.get(key);
      if (!pending) {
        const location = locateVersion(modelsDir, model, version);
        pending = openAt(location).finally(() => loading.delete(key));
        loading.set(key, pending);
      }
      let loaded: HostedVersion;
      try {
        loaded = await pending;
      } catch (error) {
        recordFailure(model, version, error);
        throw error;
      }
      failed.delete(key);
      add(loaded);
      return loaded;
    },
    failures: () => [...failed.values()],
    async unload(model, version) {
      const found = host.require(model, version);
      hosted.get(model)?.delete(version);
      if (hosted.get(model)?.size === 0) hosted.delete(model);
      releaseLater(found);
    },
    async close() {
      for (const versions of hosted.values()) {
        for (const version of versions.values()) await version.release();
      }
      hosted.clear();
    },
  };
  return host;
}
