import type { Hono } from 'hono';
import { createApp } from './app.js';
import { configuredSplitOf } from './compare/report.js';
import { compareRoutes } from './compare/routes.js';
import type { Config } from './config.js';
import { createDeploymentFollower } from './control/follow-deployments.js';
import { createRolloutService, type RolloutTimer } from './control/rollout/service.js';
import { controlRoutes } from './control/routes.js';
import { createControlService } from './control/service.js';
import { dashboardRoutes } from './dashboard/routes.js';
import { type DrainReport, type OpenedStorage, openStorage } from './db/open-storage.js';
import { feedbackRoutes } from './gateway/feedback-routes.js';
import { createNoFlags, createUnleashFlags } from './gateway/flags.js';
import { modelsRoutes } from './gateway/models-routes.js';
import { oipRoutes } from './gateway/oip-routes.js';
import {
  createOipService,
  type GrpcListenerState,
  type OipService,
} from './gateway/oip-service.js';
import { predictRoutes } from './gateway/predict-routes.js';
import { createPredictor } from './gateway/predictor.js';
import { flagName } from './gateway/routing.js';
import { userHasherFor } from './gateway/user-hash.js';
import { controlTokenChecker } from './http/control-token.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createModelHost } from './models/model-host.js';
import { isModelsDir } from './models/registry.js';
import { replayRoutes } from './replay/routes.js';
import { createReplayService } from './replay/service.js';
import { startLogRetention } from './retention/log-retention.js';

export interface Modelgate {
  app: Hono;
  /** The Open Inference Protocol behind both transports: REST in `app`, gRPC in grpc/. */
  oip: OipService;
  /** What readiness says of the gRPC listener; main.ts (or a test) moves it as it serves. */
  setGrpcListener(state: GrpcListenerState): void;
  metrics: Metrics;
  /** Commits every queued prediction row now (tests and read-your-writes queries). */
  flushLog(): Promise<void>;
  storage: OpenedStorage;
  /**
   * Drains the prediction log (until `deadline`, epoch ms; default MODELGATE_SHUTDOWN_TIMEOUT
   * from now), spills what it could not write, and releases every session. Call once,
   * after the server has stopped accepting and every open request has answered.
   */
  close(deadline?: number): Promise<DrainReport>;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** What a test may swap: the rollout clock, so steps fire without sleeping. */
export interface ComposeOverrides {
  rolloutTimer?: RolloutTimer;
  /**
   * Awaited inside a rollout evaluation after its window is read, before the outcome
   * is committed: a test holds it to land an abort exactly there.
   */
  rolloutEvaluationGate?: (model: string) => Promise<void>;
}

/** Builds every part from config. main.ts serves it; tests call it with temp dirs. */
export async function composeModelgate(
  config: Config,
  logger: Logger,
  overrides: ComposeOverrides = {},
): Promise<Modelgate> {
  if (!isModelsDir(config.modelsDir)) {
    throw new StartupError(
      `MODELGATE_MODELS_DIR: "${config.modelsDir}" is not a directory (expected <model>/<version>/model.onnx + model.json)`,
    );
  }
  const storage = await openStorage(config, logger);
  const { deployments, predictionLog, rollouts, queries } = storage;
  const flushLog = () => predictionLog.flush();
  const metrics = createMetrics();
  const host = await createModelHost(config.modelsDir, {
    batch: config.batch,
    inferenceWorker: config.inferenceWorker,
    cacheRows: config.cacheRows,
    intraOpThreads: config.intraOpThreads,
    onBatch: (model, version, rows) => metrics.batchRows.observe({ model, version }, rows),
    onWorkerStopped: (model, version, reason, callsFailed) =>
      logger.error(
        { model, version, reason, callsFailed },
        `inference worker of ${model}/${version} stopped; failed its ${callsFailed} calls in flight, starting a new one`,
      ),
    onLoadFailed: (model, version, error) =>
      logger.error({ model, version, err: error }, `model version not loaded: ${model}/${version}`),
  });
  const flags = config.unleash
    ? createUnleashFlags({
        ...config.unleash,
        flagPrefix: config.flagPrefix,
        onWarn: (message) => logger.warn(message),
      })
    : createNoFlags();
  const control = createControlService({
    host,
    deployments,
    rollouts,
  });
  const rollout = createRolloutService({
    control,
    deployments,
    rollouts,
    host,
    windowRows: async (query) => {
      // Read-your-writes, as for /compare: the step's window includes what was just served.
      await flushLog();
      const rows = await queries.compareRows(query);
      await overrides.rolloutEvaluationGate?.(query.model);
      return rows;
    },
    logger,
    leads: () => storage.leads(),
    ...(overrides.rolloutTimer ? { timer: overrides.rolloutTimer } : {}),
  });

  // Another replica's change applies here only once the versions it needs are loaded
  // from this replica's own models directory; until then the previous state serves.
  const follower = createDeploymentFollower({ host, logger, firstRetryMs: config.dbRefreshMs });
  deployments.prepareWith((next) => follower.prepare(next));
  deployments.onReplaced((previous, next) => follower.replaced(previous, next));
  await control.ensureDeployments();
  for (const state of deployments.all()) {
    // Not fatal: this model answers 503 and readiness names it; every other model serves.
    if (!host.get(state.model, state.live)) {
      logger.error(
        { model: state.model, version: state.live },
        `live version ${state.model}/${state.live} is not loaded (not in ${config.modelsDir}, or it failed to load): the model is not ready`,
      );
    }
    for (const [version, sha256] of Object.entries(state.hosted)) {
      const loaded = host.get(state.model, version);
      if (loaded && loaded.sha256 !== sha256) {
        logger.warn(
          { model: state.model, version, sha256: loaded.sha256, expected: sha256 },
          `${state.model}/${version}: model.onnx on disk is not the file the deployment hosts (sha256 ${loaded.sha256}, expected ${sha256}); POST /control/load with "reload": true to make it so`,
        );
      }
    }
  }

  flags.onVariantsChanged((flag) => {
    const model = flag.slice(config.flagPrefix.length);
    const state = deployments.get(model);
    if (!state?.pinned || state.source !== 'unleash') return;
    control
      .apply(
        model,
        { type: 'unpin' },
        { actor: 'unleash', reason: `flag ${flag} variants changed` },
      )
      .catch((error) => logger.error({ err: error, model }, 'could not unpin after flag change'));
  });

  metrics.watch({
    queueDepth: () => predictionLog.queueDepth,
    rowsWritten: () => predictionLog.rowsWritten,
    rowsRejected: () => predictionLog.rowsRejected,
    liveVersions: () => deployments.all().map((s) => ({ model: s.model, version: s.live })),
  });

  const predictor = createPredictor({
    host,
    deployments,
    flags,
    predictionLog,
    metrics,
    flagPrefix: config.flagPrefix,
    hashUserKey: await userHasherFor(config.userHashKey, storage.secrets),
    warn: (message, details) => logger.warn(details ?? {}, message),
  });

  // Off until a listener is started: a test gateway or an embedding serves REST alone.
  let grpcListener: GrpcListenerState = 'off';
  const oip = createOipService({
    host,
    deployments,
    predictor,
    storage: () => ({ kind: storage.kind, ...storage.health(), leads: storage.leads() }),
    grpcListener: () => grpcListener,
  });

  // Replays run here, off the request path, into their own tables (src/replay/service.ts).
  const replays = createReplayService({
    replays: storage.replays,
    rows: queries,
    host,
    liveVersion: (model) => deployments.get(model)?.live,
    flushLog,
    maxRowsPerS: config.replay.maxRowsPerS,
    onError: (error, job) =>
      logger.error({ err: error, replay: job.id, model: job.model }, 'replay failed'),
  });

  const hasControlToken = controlTokenChecker(config.controlToken);
  const app = createApp({
    logger,
    metrics,
    storageUnavailable: (error) => storage.unavailable(error),
    routers: [
      predictRoutes(predictor),
      oipRoutes(oip),
      modelsRoutes({ host, deployments, flags, flagPrefix: config.flagPrefix }),
      feedbackRoutes({ feedback: storage.feedback, predictionLog, host, hasControlToken }),
      compareRoutes({
        queries,
        flushLog,
        configuredSplit: (model) => {
          const state = deployments.get(model);
          if (!state) return undefined;
          const unleashWeights = flags.variantWeights(flagName(config.flagPrefix, model)) ?? null;
          return configuredSplitOf(state, unleashWeights);
        },
        retentionMs: config.logRetentionMs,
        featureStats: (model, version) => host.get(model, version)?.manifest.featureStats,
      }),
      // Before controlRoutes: its GET /control/:model would take /control/replay.
      replayRoutes({ replays, hasControlToken }),
      controlRoutes({
        control,
        rollout,
        hasControlToken,
        actor: config.controlTokenName,
        unleashConfigured: config.unleash !== null,
      }),
      dashboardRoutes({
        queries,
        flushLog,
        hasModel: (model) => deployments.get(model) !== undefined,
      }),
    ],
  });

  // Rollouts running before a restart, started on another replica, or left by a leader
  // that went away are picked up here, and again every refresh.
  await rollout.sync();
  const rolloutSync = setInterval(() => {
    rollout.sync().catch((error) => logger.warn({ err: error }, 'rollout sync failed'));
  }, config.dbRefreshMs);
  rolloutSync.unref();

  const retentionMs = config.logRetentionMs;
  const retention =
    retentionMs === null
      ? null
      : startLogRetention({
          archive: storage.archive,
          replays: storage.replays,
          retentionMs,
          leads: () => storage.leads(),
          onDeleted: (rows, before) =>
            logger.info({ rows, before: new Date(before).toISOString() }, 'log retention: deleted'),
          onReplaysDeleted: (rows, before) =>
            logger.info(
              { rows, before: new Date(before).toISOString() },
              'log retention: deleted finished replays',
            ),
          onError: (error) =>
            logger.warn({ err: error }, 'log retention pass failed; next pass retries'),
        });

  let closing: Promise<DrainReport> | undefined;
  return {
    app,
    oip,
    metrics,
    setGrpcListener(state) {
      grpcListener = state;
    },
    flushLog,
    storage,
    close(deadline) {
      closing ??= (async () => {
        clearInterval(rolloutSync);
        rollout.close();
        flags.close();
        await retention?.close();
        const until = deadline ?? Date.now() + config.shutdownTimeoutMs;
        // Its jobs end as failed with what they had done, while storage is still open; one
        // stuck in its candidate is left at the deadline, and the log's rows are spilled.
        await replays.close(until);
        const drained = await storage.close(until);
        await host.close();
        return drained;
      })();
      return closing;
    },
  };
}
