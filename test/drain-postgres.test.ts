import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ChildGateway,
  killLeftoverGateways,
  startChildGateway,
} from './support/child-gateway.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import { readPrediction } from './support/responses.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { IRIS_ROW } from './support/test-gateway.js';

let database: TestDatabase;
let proxy: TcpProxy;
const spillDir = mkdtempSync(join(tmpdir(), 'modelgate-drain-pg-'));

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startTcpProxy(database.url);
}, 30_000);

afterEach(killLeftoverGateways);
afterAll(async () => {
  await proxy?.close();
  await database?.drop();
  rmSync(spillDir, { recursive: true, force: true });
});

const gatewayEnv = (extra: Record<string, string> = {}) => ({
  MODELGATE_DATABASE_URL: proxy.url,
  MODELGATE_CONTROL_TOKEN: 'drain-test-token-0123456789',
  MODELGATE_SPILL_DIR: spillDir,
  MODELGATE_DB_REFRESH_MS: '500',
  MODELGATE_LOG_MAX_QUEUE: '50000',
  ...extra,
});

const loggedRows = async (): Promise<number> => {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT count(*)::int AS n FROM predictions');
    return rows[0].n as number;
  } finally {
    await client.end();
  }
};

/** Predictions of 1,000 rows each until `rows` rows are answered 200; returns that count. */
const answerRows = async (gateway: ChildGateway, rows: number): Promise<number> => {
  let answered = 0;
  while (answered < rows) {
    const res = await fetch(`${gateway.url}/predict/iris`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: Array(1000).fill(IRIS_ROW) }),
    });
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(200);
    answered += (await readPrediction(res)).outputs.length;
  }
  return answered;
};

/** The queue depth main.ts logs with "stopping". */
const pendingAtStop = (output: string): number => {
  const line = output.split('\n').find((l) => l.includes('"msg":"stopping'));
  return z.object({ pendingRows: z.number() }).parse(JSON.parse(line ?? '{}')).pendingRows;
};

describe('PostgreSQL drain at SIGTERM', () => {
  it('writes every chunk of a queue longer than 10,000 rows before it exits', async () => {
    const gateway = await startChildGateway(gatewayEnv({ MODELGATE_SHUTDOWN_TIMEOUT: '60' }));
    const before = await loggedRows();
    // A short outage under load: rows pile up in the queue...
    await proxy.down();
    const answered = await answerRows(gateway, 25_000);
    // ...and the database is back just as the replica is told to stop.
    await proxy.up();
    expect(await gateway.stop('SIGTERM', 'node')).toBe(0);
    expect(pendingAtStop(gateway.output())).toBeGreaterThan(10_000);
    expect(gateway.output()).toContain('"msg":"stopped"');
    expect((await loggedRows()) - before).toBe(answered);
  }, 180_000);

  it('spills what it cannot write while the database is down, exits non-zero naming it, and the next start writes it', async () => {
    const gateway = await startChildGateway(gatewayEnv({ MODELGATE_SHUTDOWN_TIMEOUT: '2' }));
    const before = await loggedRows();
    await proxy.down();
    const answered = await answerRows(gateway, 3_000);
    const exitCode = await gateway.stop('SIGTERM', 'node');

    expect(exitCode).not.toBe(0);
    const spilled = readdirSync(spillDir).filter((name) => name.endsWith('.jsonl'));
    expect(spilled).toHaveLength(1);
    expect(gateway.output()).toContain(
      `modelgate: ${answered} prediction rows could not be written by the deadline; saved to ${join(spillDir, spilled[0] as string)}`,
    );
    expect(await loggedRows()).toBe(before);

    // Back up: the next start writes the spill file before it reports ready.
    await proxy.up();
    const next = await startChildGateway(gatewayEnv());
    expect((await loggedRows()) - before).toBe(answered);
    expect(readdirSync(spillDir).filter((name) => name.endsWith('.jsonl'))).toEqual([]);
    expect(next.output()).toContain('spill files written into the log');
    expect(await next.stop('SIGTERM', 'node')).toBe(0);
    expect((await loggedRows()) - before).toBe(answered);
  }, 180_000);
});
