import { serve } from '@hono/node-server';
import { composeModelgate, StartupError } from './compose.js';
import { ConfigError, readConfig } from './config.js';
import { createLogger } from './logger.js';

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
  const server = serve(
    { fetch: modelgate.app.fetch, port: config.port, hostname: config.host },
    (info) => logger.info({ port: info.port, host: config.host }, 'modelgate listening'),
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing open requests and draining the prediction log');
    // close() waits for in-flight requests, so every 200 already answered has its row queued.
    server.close(async () => {
      clearInterval(idleSweep);
      await modelgate.close();
      logger.info('stopped');
      process.exit(0);
    });
    // Keep-alive sockets turn idle only after their response; close each as it does.
    const closeIdle = () => {
      if ('closeIdleConnections' in server) server.closeIdleConnections();
    };
    const idleSweep = setInterval(closeIdle, 50);
    closeIdle();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StartupError) {
    process.stderr.write(`modelgate: ${error.message}\n`);
  } else {
    process.stderr.write(`modelgate: failed to start: ${(error as Error).stack ?? error}\n`);
  }
  process.exit(1);
});
