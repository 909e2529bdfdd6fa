import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { createProgress } from '../cli/progress.js';
import { readConfig } from '../config.js';
import { openStorage } from '../db/open-storage.js';
import { AppError, badRequest, modelNotFound, versionNotFound } from '../errors.js';
import { createNoFlags, createUnleashFlags, type FlagSource } from '../gateway/flags.js';
import { createPredictor } from '../gateway/predictor.js';
import { userHasherFor } from '../gateway/user-hash.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { createModelHost } from '../models/model-host.js';
import { inputFormatOf, readInputRows } from './input-rows.js';
import { runScoreJob } from './job.js';

const USAGE = `usage: npm run score -- --model <name> --in <rows.jsonl|rows.csv> --out <predictions.jsonl>
  [--version v2] [--user-column id] [--errors <file>] [--input-format jsonl|csv]`;

/** How long to wait for the first Unleash fetch before routing: without it, all would go to live. */
const FLAGS_SYNC_TIMEOUT_MS = 10_000;

/**
 * `npm run score`: scores a file with the deployment the gateway serves (same database,
 * same models directory, same environment), logging every row with route `batch`.
 * Safe beside running gateways: it only appends to the log and reads deployments.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      in: { type: 'string' },
      out: { type: 'string' },
      errors: { type: 'string' },
      version: { type: 'string' },
      'user-column': { type: 'string' },
      'input-format': { type: 'string' },
    },
  });
  if (!values.model || !values.in || !values.out) throw badRequest(USAGE);
  const model = values.model;
  const errorsPath = values.errors ?? `${values.out}.errors.jsonl`;
  const input = readInputRows(values.in, inputFormatOf(values.in, values['input-format']));

  const config = readConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const storage = await openStorage(config, logger, { tool: true });
  const host = await createModelHost(config.modelsDir, {
    batch: config.batch,
    inferenceWorker: config.inferenceWorker,
    cacheRows: config.cacheRows,
  });
  const flags = await openFlags(config, logger);
  try {
    if (!host.loaded(model).size) throw modelNotFound(model);
    if (!storage.deployments.get(model)) {
      throw badRequest(
        `model "${model}" has no deployment in this database yet: start the gateway on it once`,
      );
    }
    if (values.version && !host.get(model, values.version)) {
      throw versionNotFound(model, values.version);
    }
    const predictor = createPredictor({
      host,
      deployments: storage.deployments,
      flags,
      predictionLog: storage.predictionLog,
      metrics: createMetrics(),
      flagPrefix: config.flagPrefix,
      hashUserKey: await userHasherFor(config.userHashKey, storage.secrets),
      warn: (message, details) => logger.warn(details ?? {}, message),
    });
    const requestId = `score-${uuidv7()}`;
    const out = createWriteStream(values.out);
    const errors = createWriteStream(errorsPath);
    const progress = createProgress({ label: `score ${model}` });
    const result = await runScoreJob({
      predictor,
      flushLog: () => storage.predictionLog.flush(),
      model,
      ...(values.version ? { version: values.version } : {}),
      ...(values['user-column'] ? { userColumn: values['user-column'] } : {}),
      requestId,
      rows: input.rows,
      out,
      errors,
      onProgress: (scored, failed) => progress.update(scored + failed, input.fraction()),
    });
    out.end();
    errors.end();
    await Promise.all([finished(out), finished(errors)]);
    progress.finish(
      result.scored + result.failed,
      `${result.scored} scored into ${values.out}, ${result.failed} rejected into ${errorsPath}; log request_id ${requestId}`,
    );
    return result.failed > 0 ? 3 : 0;
  } finally {
    flags.close();
    await storage.close();
    await host.close();
  }
}

async function openFlags(
  config: ReturnType<typeof readConfig>,
  logger: ReturnType<typeof createLogger>,
): Promise<FlagSource> {
  if (!config.unleash) return createNoFlags();
  const flags = createUnleashFlags({
    ...config.unleash,
    flagPrefix: config.flagPrefix,
    onWarn: (message) => logger.warn(message),
  });
  const deadline = Date.now() + FLAGS_SYNC_TIMEOUT_MS;
  while (!flags.status().synchronized && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!flags.status().synchronized) {
    logger.warn('unleash: no flags fetched yet; models split by Unleash are scored by live');
  }
  return flags;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `score: ${error instanceof AppError ? error.message : ((error as Error).stack ?? error)}\n`,
    );
    process.exit(error instanceof AppError ? 2 : 1);
  },
);
