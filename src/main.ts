import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { composeModelgate, StartupError } from './compose.js';
import { ConfigError, readConfig } from './config.js';
import { type GrpcServing, startGrpcServer } from './grpc/grpc-server.js';
import { stoppable } from './http/stop-serving.js';
import { createLogger } from './logger.js';

/**
 * The last part of the shutdown deadline is the log's: open requests are cut this much
 * before it (a tenth of the timeout when that is shorter), so the rows of the requests
 * answered last are committed, not spilled. The log commits on its own thread (SQLite) or
 * over the network (PostgreSQL): a drain that starts at the deadline has no time at all.
 */
const LOG_DRAIN_RESERVE_MS = 1_000;

/** Composition root: read config, build, serve, and drain on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = readConfig();
  if (config.databaseUrl && config.controlTokenGenerated) {
    // A generated token would differ on every replica behind the same load balancer.
    throw new ConfigError(
      'invalid MODELGATE_CONTROL_TOKEN: required with MODELGATE_DATABASE_URL (every replica needs the same token)',
    );
  }
  const logger = createLogger(config.logLevel);
  const modelgate = await composeModelgate(config, logger);
  if (config.controlTokenGenerated) {
    // Printed once, on purpose: set MODELGATE_CONTROL_TOKEN to keep a token across restarts.
    process.stdout.write(`modelgate control token (generated): ${config.controlToken}\n`);
  }
  // Not ready until both listeners are: a balancer may send either protocol here.
  if (config.grpcPort !== null) modelgate.setGrpcListener('starting');
  const server = serve(
    { fetch: modelgate.app.fetch, port: config.port, hostname: config.host },
    (info) =>
      logger.info({ port: info.port, host: config.host, pid: process.pid }, 'modelgate listening'),
  ) as Server;
  const serving = stoppable(server);
  let grpc: GrpcServing | undefined;
  if (config.grpcPort !== null) {
    try {
      grpc = await startGrpcServer(modelgate.oip, {
        host: config.host,
        port: config.grpcPort,
        onError: (error, requestId) =>
          logger.error({ err: error, requestId }, 'gRPC call failed unexpectedly'),
        metrics: modelgate.metrics,
      });
    } catch (error) {
      throw new StartupError(
        `MODELGATE_GRPC_PORT: cannot listen on ${config.host}:${config.grpcPort} (${(error as Error).message})`,
      );
    }
    modelgate.setGrpcListener('listening');
    logger.info({ port: grpc.port, host: config.host }, 'modelgate gRPC listening');
  }

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // One deadline for everything: open requests, then the log's last writes.
    const deadline = Date.now() + config.shutdownTimeoutMs;
    const requestsDeadline =
      deadline - Math.min(LOG_DRAIN_RESERVE_MS, config.shutdownTimeoutMs / 10);
    logger.info(
      { signal, pendingRows: modelgate.storage.predictionLog.queueDepth },
      'stopping: finishing open requests and draining the prediction log',
    );
    if (grpc) modelgate.setGrpcListener('stopped');
    // Resolves once every open request and call has answered, so every row owed is queued.
    const [http, calls] = await Promise.all([
      serving.stop(requestsDeadline),
      grpc?.stop(requestsDeadline) ?? { cut: false },
    ]);
    if (http.cut || calls.cut) {
      logger.warn('shutdown deadline: requests still open were cut (never answered)');
    }
    const drain = await modelgate.close(deadline);
    if (drain.unwritten === 0) {
      logger.info('stopped');
      process.exit(0);
    }
    const message = drain.spillFile
      ? `${drain.unwritten} prediction rows could not be written by the deadline; saved to ${drain.spillFile}, written into the log at the next start`
      : `${drain.unwritten} prediction rows could not be written, and saving them failed (${drain.spillError}): they are lost`;
    logger.error({ unwritten: drain.unwritten, spillFile: drain.spillFile }, message);
    process.stderr.write(`modelgate: ${message}\n`);
    process.exit(1);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    stop(signal).catch((error: unknown) => {
      process.stderr.write(`modelgate: stop failed: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StartupError) {
    process.stderr.write(`modelgate: ${error.message}\n`);
  } else {
    process.stderr.write(`modelgate: failed to start: ${(error as Error).stack ?? error}\n`);
  }
  process.exit(1);
});
