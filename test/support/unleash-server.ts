/**
 * Starts a real unleash-server (8.2.0) on a throwaway PostgreSQL database for integration
 * tests. PostgreSQL must be reachable with trust auth; override the defaults with
 * UNLEASH_TEST_PGHOST / UNLEASH_TEST_PGPORT / UNLEASH_TEST_PGUSER. Set UNLEASH_TEST_LOG_LEVEL
 * (debug|info|warn|error) to see the server's own logs when a test misbehaves.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { IUnleash, IUnleashOptions, LogLevel, LogProvider } from 'unleash-server';
import { vi } from 'vitest';

export interface UnleashTestServer {
  /** Client API base with trailing slash, as unleash-client wants it: http://127.0.0.1:PORT/api/ */
  url: string;
  /** Server origin (plus base path); Admin API paths such as /api/admin/... hang off it. */
  adminUrl: string;
  /** `default:development.<random>`, sent by SDKs as the Authorization header. */
  clientToken: string;
  /** `*:*.<random>`, for the Admin API. */
  adminToken: string;
  /** Name of the database created for this server; it is dropped by stop(). */
  database: string;
  /** Stops the server and drops its database. Safe to call more than once. */
  stop(): Promise<void>;
}

interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

interface PgModule {
  Client: new (config: { host: string; port: number; user: string; database: string }) => PgClient;
}

// pg ships with unleash-server but has no type declarations installed, so type the little we use.
const require = createRequire(import.meta.url);
const pg = require('pg') as PgModule;

const pgHost = process.env.UNLEASH_TEST_PGHOST ?? '127.0.0.1';
const pgPort = Number(process.env.UNLEASH_TEST_PGPORT ?? 5432);
const pgUser = process.env.UNLEASH_TEST_PGUSER ?? 'postgres';

const HEALTH_TIMEOUT_MS = 30_000;

async function withMaintenanceDb<T>(fn: (client: PgClient) => Promise<T>): Promise<T> {
  const client = new pg.Client({ host: pgHost, port: pgPort, user: pgUser, database: 'postgres' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// Names are generated from [a-z0-9_] only, so quoting is enough; DDL cannot take parameters.
const quoteIdent = (name: string): string => `"${name}"`;

async function dropDatabase(name: string): Promise<void> {
  // FORCE (PostgreSQL 13+) ends sessions that a half-stopped pool may still hold open.
  await withMaintenanceDb((client) =>
    client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
  );
}

function silentLogProvider(errors: string[]): LogProvider {
  const keep = (message: unknown, ...args: unknown[]): void => {
    // Kept (bounded) so a failed start can explain itself without flooding passing runs.
    if (errors.length < 50) {
      errors.push([message, ...args].map((part) => String(part)).join(' '));
    }
  };
  const noop = (): void => {};
  const logger = { debug: noop, info: noop, warn: noop, error: keep, fatal: keep };
  return () => logger;
}

async function waitForHealth(origin: string, errors: string[]): Promise<void> {
  let last = 'no response';
  try {
    await vi.waitFor(
      async () => {
        const response = await fetch(`${origin}/health`).catch((error: unknown) => {
          last = String(error);
          throw error;
        });
        if (response.status !== 200) {
          last = `HTTP ${response.status}: ${await response.text()}`;
          throw new Error(last);
        }
      },
      { timeout: HEALTH_TIMEOUT_MS, interval: 100 },
    );
  } catch {
    throw new Error(
      `unleash-server not healthy after ${HEALTH_TIMEOUT_MS} ms (${last}); logged errors: ${errors.join(' | ')}`,
    );
  }
}

export async function startUnleash(): Promise<UnleashTestServer> {
  const suffix = randomBytes(3).toString('hex');
  const database = `modelgate_test_${process.pid}_${Date.now()}_${suffix}`;
  const adminToken = `*:*.${randomBytes(16).toString('hex')}`;
  const clientToken = `default:development.${randomBytes(16).toString('hex')}`;
  const errors: string[] = [];

  // create-config reads `options.telemetry || SEND_TELEMETRY`, so `telemetry: false` alone
  // does not switch telemetry off.
  process.env.SEND_TELEMETRY = 'false';

  await withMaintenanceDb((client) => client.query(`CREATE DATABASE ${quoteIdent(database)}`));

  // Loaded lazily: importing the server pulls in a large module graph that unit tests sharing
  // this support folder should not pay for.
  const server = await import('unleash-server');
  const debugLevel = process.env.UNLEASH_TEST_LOG_LEVEL as LogLevel | undefined;
  const options: IUnleashOptions = {
    db: { host: pgHost, port: pgPort, user: pgUser, password: '', database, ssl: false },
    // Port 0 survives create-config (`port ?? 4242`), so the OS picks a free port without a race.
    // Graceful shutdown would install SIGINT/SIGTERM handlers in the test worker.
    // serverMetrics off: each start would otherwise call prom-client's collectDefaultMetrics()
    // on the global registry, and a second server in the same process fails with "metric ...
    // has already been registered".
    server: { host: '127.0.0.1', port: 0, gracefulShutdownEnable: false, serverMetrics: false },
    // The DB-backed session store keeps a cleanup timer that stop() never clears; after the
    // database is dropped it would console.error every minute. API tokens need no sessions.
    session: { db: false },
    authentication: {
      type: server.IAuthType.OPEN_SOURCE,
      createAdminUser: false,
      initApiTokens: [
        {
          tokenName: 'modelgate-test-admin',
          secret: adminToken,
          type: server.ApiTokenType.ADMIN,
          environment: '*',
          projects: ['*'],
        },
        {
          tokenName: 'modelgate-test-client',
          secret: clientToken,
          type: server.ApiTokenType.BACKEND,
          environment: 'development',
          projects: ['default'],
        },
      ],
    },
    versionCheck: { enable: false },
    telemetry: false,
    ...(debugLevel ? { logLevel: debugLevel } : { getLogger: silentLogProvider(errors) }),
  };

  // Unleash adds an unhandledRejection listener on every start and never removes it.
  const rejectionListenersBefore = new Set(process.listeners('unhandledRejection'));

  let unleash: IUnleash;
  try {
    unleash = await server.start(options);
  } catch (error) {
    await dropDatabase(database).catch(() => {});
    throw new Error(
      `unleash-server failed to start: ${String(error)}; logged: ${errors.join(' | ')}`,
      { cause: error },
    );
  }

  const address = unleash.server?.address() as AddressInfo | null | undefined;
  const origin = `http://127.0.0.1:${address?.port ?? 0}${unleash.config.server.baseUriPath}`;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      try {
        await unleash.stop();
      } finally {
        for (const listener of process.listeners('unhandledRejection')) {
          if (!rejectionListenersBefore.has(listener)) {
            process.off('unhandledRejection', listener);
          }
        }
        await dropDatabase(database);
      }
    })();
    return stopped;
  };

  try {
    if (!address?.port) throw new Error('unleash-server is not listening on a TCP port');
    await waitForHealth(origin, errors);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }

  return { url: `${origin}/api/`, adminUrl: origin, clientToken, adminToken, database, stop };
}
