import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import { type ComposeOverrides, composeModelgate, type Modelgate } from '../../src/compose.js';
import { readConfig } from '../../src/config.js';
import { type GrpcServing, startGrpcServer } from '../../src/grpc/grpc-server.js';
import { createLogger, type Logger } from '../../src/logger.js';

export const BUNDLED_MODELS = resolve(import.meta.dirname, '../../models');
export const CONTROL_TOKEN = 'control-secret-for-tests';

export interface TestGateway {
  gate: Modelgate;
  dir: string;
  dbPath: string;
  modelsDir: string;
  /** `http://127.0.0.1:<port>`: for a CLI that talks to the gateway. */
  url: string;
  /** `127.0.0.1:<port>` of the gRPC service, when started with `grpc: true`. */
  grpcAddress: string | undefined;
  request(path: string, init?: RequestInit): Promise<Response>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  control(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Response>;
  /** Flushes the log, then reads the SQLite file through a read-only connection of its own. */
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  env?: Record<string, string>;
  /** Copy the bundled models into a private directory the test may change. */
  copyModels?: boolean;
  /** Reuse a directory (and its database) from an earlier gateway, to test restarts. */
  dir?: string;
  overrides?: ComposeOverrides;
  /** Also serve the gRPC service, on an ephemeral port. */
  grpc?: boolean;
  /** Where the gateway logs (default: nowhere), for tests that check a line is written. */
  logger?: Logger;
}

export async function createTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'modelgate-test-'));
  const dbPath = join(dir, 'modelgate.db');
  let modelsDir = BUNDLED_MODELS;
  if (options.copyModels) {
    modelsDir = join(dir, 'models');
    cpSync(BUNDLED_MODELS, modelsDir, { recursive: true, force: false });
  }
  const config = readConfig({
    MODELGATE_DB: dbPath,
    MODELGATE_MODELS_DIR: modelsDir,
    MODELGATE_CONTROL_TOKEN: CONTROL_TOKEN,
    MODELGATE_CONTROL_TOKEN_NAME: 'tester',
    // Never ./data: a spill file there would be replayed into another test's database.
    MODELGATE_SPILL_DIR: join(dir, 'spill'),
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const gate = await composeModelgate(
    config,
    options.logger ?? createLogger('silent'),
    options.overrides,
  );
  let reader: Database.Database | undefined;
  // Real HTTP on a loopback port: the same node adapter and body reading as `npm start`.
  const server = await new Promise<ReturnType<typeof serve>>((ready) => {
    const listening = serve({ fetch: gate.app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      ready(listening),
    );
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let grpc: GrpcServing | undefined;
  if (options.grpc) {
    gate.setGrpcListener('starting');
    grpc = await startGrpcServer(gate.oip, {
      host: '127.0.0.1',
      port: 0,
      onError: () => {},
      metrics: gate.metrics,
    });
    gate.setGrpcListener('listening');
  }

  const request = (path: string, init?: RequestInit) => fetch(`${origin}${path}`, init);
  return {
    gate,
    dir,
    dbPath,
    modelsDir,
    url: origin,
    grpcAddress: grpc ? `127.0.0.1:${grpc.port}` : undefined,
    request,
    post: (path, body, headers = {}) =>
      request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    control: (method, path, body) =>
      request(path, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${CONTROL_TOKEN}` },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    async query(sql, ...params) {
      // The log's thread commits behind the event loop: what was answered is read once flushed.
      await gate.flushLog();
      reader ??= new Database(dbPath, { readonly: true });
      return reader.prepare(sql).all(...params) as never;
    },
    async close() {
      reader?.close();
      await grpc?.stop(Date.now());
      await new Promise<void>((closed) => {
        server.close(() => closed());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      await gate.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const IRIS_ROW = {
  sepal_length: 5.1,
  sepal_width: 3.5,
  petal_length: 1.4,
  petal_width: 0.2,
};

/**
 * A body compared whole (`toEqual`, `toMatchObject`): `unknown`, so reading a field needs
 * one of the typed readers in responses.ts, which check the shape first.
 */
export const json = (res: Response): Promise<unknown> => res.json();
