import { v7 as uuidv7 } from 'uuid';
import type { DeploymentStore } from '../db/deployments.js';
import type { PredictionLog, PredictionRecord } from '../db/predictions.js';
import { AppError, modelNotFound, versionNotFound } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Reading } from '../models/contract.js';
import type { Task } from '../models/manifest.js';
import type { ModelHost } from '../models/model-host.js';
import type { HostedVersion } from '../models/onnx-host.js';
import type { Scores } from '../models/output-reading.js';
import type { FlagContext, FlagSource } from './flags.js';
import type { PredictRows } from './predict-input.js';
import { flagName, type Route, routeRequest } from './routing.js';
import { shouldShadow } from './shadow-sampling.js';

/** What the log's `route` says: the routing rule, `shadow` for mirrors, `batch` for `npm run score`. */
export type PredictionRoute = Route | 'shadow' | 'batch';

export interface PredictRequest {
  model: string;
  /** `X-Model-Version` or an OIP path version. */
  override?: string;
  context: FlagContext;
  requestId: string;
  /** Validates and packs the input for the version routing chose (versions may differ in features). */
  toRows: (version: HostedVersion) => PredictRows;
  /**
   * Log the rows under this route instead of the routing rule's (the batch scoring job):
   * routed as any request, but kept apart from live traffic in the sample-ratio test,
   * and never mirrored to a shadow.
   */
  logRoute?: 'batch';
}

/** A classifier's answer for one row: its label, that label's probability, all of them. */
export interface ClassOutput {
  label: string;
  score: number;
  probabilities: Record<string, number>;
}

/** A regressor's answer for one row. */
export interface ValueOutput {
  value: number;
}

export type RowOutput = ClassOutput | ValueOutput;

export interface PredictResult {
  model: string;
  version: string;
  route: PredictionRoute;
  predictionIds: string[];
  task: Task;
  outputs: RowOutput[];
  labels: readonly string[];
  /** Row-major, labels.length probabilities (classifiers) or 1 value (regressors) per row, for tensors. */
  scores: Scores;
  /** Where each row's label came from: the graph's label output, or the most probable class. */
  labelFrom: string | null;
  /** Which graph outputs the answer was read from. */
  reading: Reading;
}

export interface PredictorDeps {
  host: ModelHost;
  deployments: DeploymentStore;
  flags: FlagSource;
  predictionLog: PredictionLog;
  metrics: Metrics;
  flagPrefix: string;
  /** Only this keyed hash of the user's key is ever stored. */
  hashUserKey: (key: string) => string;
  warn: (message: string, details?: Record<string, unknown>) => void;
  random?: () => number;
}

export interface Predictor {
  predict(request: PredictRequest): Promise<PredictResult>;
}

export function createPredictor(deps: PredictorDeps): Predictor {
  const random = deps.random ?? Math.random;
  const warnedVariants = new Set<string>();

  const execute = async (
    hosted: HostedVersion,
    rows: PredictRows,
    meta: {
      route: PredictionRoute;
      requestId: string;
      userHash: string | null;
      shadowOf?: string[];
    },
  ): Promise<{ ids: string[]; scores: Scores; outputs: RowOutput[] }> => {
    const labels = { model: hosted.model, version: hosted.version, route: meta.route };
    const started = process.hrtime.bigint();
    let scores: Scores | undefined;
    let rowLabels: string[] | null = null;
    let cached: boolean[] | undefined;
    let failure: Error | undefined;
    try {
      // One property read when the cache is off: the default path pays nothing more.
      if (hosted.cache) {
        const answer = await hosted.cache.run(
          rows.inputs[0] as Float32Array,
          rows.rows,
          async (features, n) => (await hosted.run([features], n)).scores as Float32Array,
        );
        scores = answer.probabilities;
        cached = answer.cached;
        const cacheLabels = { model: hosted.model, version: hosted.version };
        deps.metrics.cacheHits.inc(cacheLabels, answer.hits);
        deps.metrics.cacheMisses.inc(cacheLabels, rows.rows - answer.hits);
      } else {
        ({ scores, labels: rowLabels } = await hosted.run(rows.inputs, rows.rows));
      }
      const bad = firstNonFinite(scores);
      // Finite inputs can still overflow inside the graph; NaN is no answer to serve.
      if (bad !== -1) {
        const what = hosted.task === 'regression' ? 'value' : 'probability';
        const perRow = Math.max(1, hosted.labels.length);
        throw new Error(
          `model returned a non-finite ${what} (${scores[bad]}) in row ${Math.floor(bad / perRow)}`,
        );
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      scores = undefined;
    }
    const latencyUs = Number((process.hrtime.bigint() - started) / 1000n);
    const ts = Date.now();
    const ids: string[] = [];
    const records: PredictionRecord[] = [];
    const outputs = !scores
      ? []
      : hosted.task === 'regression'
        ? toValueOutputs(scores)
        : toClassOutputs(scores, hosted.labels, rowLabels);
    for (let row = 0; row < rows.rows; row++) {
      const id = uuidv7();
      ids.push(id);
      const output = outputs[row];
      records.push({
        id,
        ts,
        model: hosted.model,
        version: hosted.version,
        route: meta.route,
        userHash: meta.userHash,
        requestId: meta.requestId,
        input: rows.inputsJson[row] as string,
        // A regressor's row: output {"value": v}, no label, and the value in `score`.
        output: output ? JSON.stringify('value' in output ? output : output.probabilities) : null,
        label: output && 'label' in output ? output.label : null,
        score: output ? ('value' in output ? output.value : output.score) : null,
        latencyUs,
        status: failure ? 'error' : 'ok',
        error: failure ? failure.message : null,
        shadowOf: meta.shadowOf?.[row] ?? null,
        cached: cached?.[row] === true,
      });
    }
    // Failed rows are logged too: the error rate per version is part of every comparison.
    deps.predictionLog.append(records);
    // A log writer that has fallen far behind slows the answer rather than the queue
    // growing to its 503 limit (normally undefined: no await, no extra turn).
    const room = deps.predictionLog.room();
    if (room) await room;
    deps.metrics.predictionLatency.observe(labels, latencyUs / 1e6);
    if (failure || !scores) {
      deps.metrics.predictionErrors.inc(labels, rows.rows);
      throw new AppError(
        500,
        'inference_failed',
        `${hosted.model}/${hosted.version} failed: ${failure?.message}`,
        { cause: failure },
      );
    }
    deps.metrics.predictions.inc(labels, rows.rows);
    return { ids, scores, outputs };
  };

  const mirror = (
    hosted: HostedVersion,
    request: PredictRequest,
    servedIds: string[],
    userHash: string | null,
  ): void => {
    let rows: PredictRows;
    try {
      rows = request.toRows(hosted);
    } catch (error) {
      // The shadow may expect other features; that is its problem, not the user's.
      deps.warn('shadow input rejected', { model: hosted.model, version: hosted.version, error });
      return;
    }
    execute(hosted, rows, {
      route: 'shadow',
      requestId: request.requestId,
      userHash,
      shadowOf: servedIds,
    }).catch(() => {
      // Already logged as error rows of the shadow version.
    });
  };

  return {
    async predict(request) {
      const state = deps.deployments.get(request.model);
      if (!state) throw modelNotFound(request.model);
      const loaded = deps.host.loaded(request.model);
      const groupId = flagName(deps.flagPrefix, request.model);
      const stickyKey = request.context.userId ?? request.context.sessionId;
      const flagVariant =
        state.source === 'unleash' && !state.pinned && request.override === undefined
          ? deps.flags.variant(groupId, request.context)
          : undefined;
      const decision = routeRequest({
        state,
        loaded,
        override: request.override,
        flagVariant,
        stickyKey,
        groupId,
        random,
      });
      if (decision.kind === 'unknown_version') {
        throw versionNotFound(request.model, decision.version);
      }
      if (decision.ignoredVariant && !warnedVariants.has(`${groupId}:${decision.ignoredVariant}`)) {
        warnedVariants.add(`${groupId}:${decision.ignoredVariant}`);
        deps.warn(
          `flag ${groupId} names variant "${decision.ignoredVariant}", which is not a loaded version; serving live`,
        );
      }
      const hosted = deps.host.get(request.model, decision.version);
      if (!hosted) {
        // The deployment wants a version this replica could not load: our fault, not the caller's.
        if (decision.route === 'override') throw versionNotFound(request.model, decision.version);
        throw new AppError(
          503,
          'unavailable',
          `model "${request.model}": version "${decision.version}" is not loaded on this replica (see GET /models and /v2/health/ready)`,
        );
      }
      const rows = request.toRows(hosted);
      const userHash = stickyKey === undefined ? null : deps.hashUserKey(stickyKey);
      const { ids, scores, outputs } = await execute(hosted, rows, {
        route: request.logRoute ?? decision.route,
        requestId: request.requestId,
        userHash,
      });

      const shadow = state.shadow;
      if (
        shadow &&
        request.logRoute === undefined &&
        shadow.version !== decision.version &&
        shouldShadow(shadow.percent, random)
      ) {
        const shadowHosted = deps.host.get(request.model, shadow.version);
        // After the response is on its way: the shadow never delays or changes it.
        if (shadowHosted) setImmediate(() => mirror(shadowHosted, request, ids, userHash));
      }
      return {
        model: request.model,
        version: decision.version,
        route: request.logRoute ?? decision.route,
        predictionIds: ids,
        task: hosted.task,
        outputs,
        labels: hosted.labels,
        scores,
        labelFrom:
          hosted.contract.reading.task === 'classification'
            ? (hosted.contract.reading.label ?? 'argmax')
            : null,
        reading: hosted.contract.reading,
      };
    },
  };
}

function firstNonFinite(values: Scores): number {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return i;
  }
  return -1;
}

export function toValueOutputs(values: Scores): ValueOutput[] {
  return Array.from(values, (value) => ({ value }));
}

/**
 * Each row's label is the graph's label output when it has one (a tuned threshold
 * lives there), else the most probable class; `score` is that label's probability.
 */
export function toClassOutputs(
  probabilities: Scores,
  labels: readonly string[],
  rowLabels: readonly string[] | null = null,
): ClassOutput[] {
  const width = labels.length;
  const outputs: ClassOutput[] = [];
  for (let offset = 0, row = 0; offset < probabilities.length; offset += width, row++) {
    const byLabel: Record<string, number> = {};
    let best = 0;
    for (let k = 0; k < width; k++) {
      const p = probabilities[offset + k] as number;
      byLabel[labels[k] as string] = p;
      if (p > (probabilities[offset + best] as number)) best = k;
    }
    const given = rowLabels?.[row];
    const label = given ?? (labels[best] as string);
    outputs.push({
      label,
      score: byLabel[label] ?? (probabilities[offset + best] as number),
      probabilities: byLabel,
    });
  }
  return outputs;
}
