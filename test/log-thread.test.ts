/**
 * The SQLite prediction log's writer on its own thread (MODELGATE_LOG_WRITER=thread, the
 * default for a file): a thread that dies loses no row and is replaced; the main
 * connection's writes (feedback, control changes) share the file's lock with it under full
 * load and never answer 503; a process that closes its storage exits by itself.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { exitLogThreadOnNextWriteForTests } from '../src/db/sqlite/log-thread.js';
import {
  type ChildGateway,
  killLeftoverGateways,
  PROJECT_ROOT,
  startChildGateway,
} from './support/child-gateway.js';
import { present, readPrediction } from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterEach(killLeftoverGateways);
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const readOnly = <T>(dbPath: string, sql: string): T[] => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
};

interface LoadResult {
  /** Prediction ids of every answer 200, in no particular order. */
  ids: string[];
  /** Statuses other than 200. */
  failed: number[];
}

/**
 * `streams` clients each sending batch predictions of `rows` rows back to back until
 * `stop()`: the log takes rows as fast as the gateway can answer.
 */
function streamPredictions(url: string, streams: number, rows: number) {
  const result: LoadResult = { ids: [], failed: [] };
  let stopping = false;
  const body = JSON.stringify({ instances: Array(rows).fill(IRIS_ROW) });
  const client = async () => {
    while (!stopping) {
      try {
        const res = await fetch(`${url}/predict/iris`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        if (res.status === 200)
          result.ids.push(...present((await readPrediction(res)).predictionIds));
        else {
          result.failed.push(res.status);
          await res.body?.cancel();
        }
      } catch {
        // The gateway gone (a test failing half-way): stop quietly, the test says why.
        result.failed.push(0);
        return;
      }
    }
  };
  const running = Array.from({ length: streams }, client);
  return {
    result,
    async stop() {
      stopping = true;
      await Promise.all(running);
      return result;
    },
  };
}

describe('a log writer thread that dies', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  const queueDepth = async (gateway: TestGateway) => {
    const text = await (await gateway.request('/metrics')).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('modelgate_prediction_log_queue_depth '));
    return Number(line?.split(' ').at(-1));
  };

  it.each(['before-commit', 'after-commit'] as const)(
    '%s: every answered prediction has its row, once, and a new thread writes on',
    async (when) => {
      const lines: { msg: string; cause?: string }[] = [];
      const gateway = await createTestGateway({
        env: { MODELGATE_LOG_WRITER: 'thread' },
        logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
      });
      gw = gateway;
      const load = streamPredictions(gateway.url, 4, 50);
      await expect.poll(() => load.result.ids.length, { timeout: 20_000 }).toBeGreaterThan(2_000);
      exitLogThreadOnNextWriteForTests({ code: 70, when });
      await expect
        .poll(() => lines.map((l) => l.cause ?? ''), { timeout: 20_000 })
        .toContain('prediction log writer thread stopped: exit code 70');
      const atStop = load.result.ids.length;
      // The new thread writes the rows the dead one held, and what came meanwhile.
      await expect
        .poll(() => lines.map((l) => l.msg), { timeout: 20_000 })
        .toContain('prediction log writing again');
      await expect
        .poll(() => load.result.ids.length, { timeout: 20_000 })
        .toBeGreaterThan(atStop + 2_000);
      const { ids, failed } = await load.stop();
      expect(failed).toEqual([]);
      // Without a flush: the queue empties by itself.
      await expect.poll(() => queueDepth(gateway), { timeout: 20_000 }).toBe(0);

      const logged = readOnly<{ id: string }>(gateway.dbPath, 'SELECT id FROM predictions');
      expect(logged.length).toBe(ids.length);
      expect(new Set(logged.map((r) => r.id))).toEqual(new Set(ids));
      // A batch committed just before the thread died and retried is counted once.
      const [rollup] = readOnly<{ n: number }>(
        gateway.dbPath,
        'SELECT sum(count) AS n FROM latency_rollup',
      );
      expect(rollup?.n).toBe(ids.length);
    },
    120_000,
  );
});

const TOKEN = 'log-thread-token-0123456789';

describe('the main connection beside the log writer thread', () => {
  const post = (gateway: ChildGateway, path: string, body: unknown, method = 'POST') =>
    fetch(`${gateway.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });

  it('answers feedback and control changes made while predictions stream at full speed, never 503', async () => {
    const dbPath = join(tempDir('modelgate-log-thread-'), 'modelgate.db');
    const gateway = await startChildGateway({
      MODELGATE_DB: dbPath,
      MODELGATE_CONTROL_TOKEN: TOKEN,
      MODELGATE_LOG_WRITER: 'thread',
    });
    // Batches of 100 rows: the thread commits transactions of hundreds of rows back to back.
    const load = streamPredictions(gateway.url, 4, 100);
    await expect.poll(() => load.result.ids.length, { timeout: 30_000 }).toBeGreaterThan(10_000);

    // Feedback and control changes side by side, each through the main connection's write
    // lock while the thread commits. A feedback POST flushes the log first, so it mostly
    // writes right after a commit; a control change does not wait for anything.
    const answers: { what: string; status: number }[] = [];
    const send = async (what: string, path: string, body: unknown, method = 'POST') => {
      const res = await post(gateway, path, body, method);
      answers.push({ what, status: res.status });
      await res.body?.cancel();
    };
    const feedback = async () => {
      for (let i = 0; i < 100; i++) {
        const predictionId = load.result.ids[i * 37] as string;
        await send('feedback', '/feedback', { predictionId, label: 'setosa' });
      }
    };
    const control = async () => {
      for (let i = 0; i < 100; i++) {
        const weight = i % 2 === 0 ? 30 : 70;
        const weights = { v1: weight, v2: 100 - weight };
        await send('split', '/control/split', { model: 'iris', weights }, 'PUT');
      }
      await send('promote', '/control/promote', { model: 'iris', version: 'v2' });
    };
    await Promise.all([feedback(), control()]);
    const { ids, failed } = await load.stop();

    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(failed).toEqual([]);
    expect(await gateway.stop('SIGTERM', 'node')).toBe(0);
    expect(readOnly<{ n: number }>(dbPath, 'SELECT count(*) AS n FROM predictions')).toEqual([
      { n: ids.length },
    ]);
    expect(readOnly<{ n: number }>(dbPath, 'SELECT count(*) AS n FROM feedback')).toEqual([
      { n: 100 },
    ]);
  }, 180_000);
});

describe('a log writer thread that falls behind', () => {
  it('slows the answers instead of filling the queue: large batches at full speed, never 503, every row logged', async () => {
    const dbPath = join(tempDir('modelgate-log-room-'), 'modelgate.db');
    // A queue of 4,000 rows: predictions wait past 1,000 (two flushes of 500), and 503
    // would start at 4,000, eight batches of 500 rows behind the writer.
    const gateway = await startChildGateway({
      MODELGATE_DB: dbPath,
      MODELGATE_LOG_WRITER: 'thread',
      MODELGATE_LOG_MAX_QUEUE: '4000',
    });
    const load = streamPredictions(gateway.url, 6, 500);
    await expect.poll(() => load.result.ids.length, { timeout: 60_000 }).toBeGreaterThan(60_000);
    const { ids, failed } = await load.stop();
    expect(failed).toEqual([]);
    expect(await gateway.stop('SIGTERM', 'node')).toBe(0);
    expect(readOnly<{ n: number }>(dbPath, 'SELECT count(*) AS n FROM predictions')).toEqual([
      { n: ids.length },
    ]);
  }, 180_000);
});

describe('a process that closes its storage', () => {
  it('exits by itself with every row written: the writer thread does not keep it alive', async () => {
    const dbPath = join(tempDir('modelgate-log-exit-'), 'modelgate.db');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(import.meta.dirname, 'fixtures/log-thread-exit.ts'), dbPath],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timeout);
    expect({ code, output }).toMatchObject({ code: 0, output: expect.stringContaining('closed') });
    expect(readOnly<{ n: number }>(dbPath, 'SELECT count(*) AS n FROM predictions')).toEqual([
      { n: 5_000 },
    ]);
  }, 60_000);
});
