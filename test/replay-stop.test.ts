import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type ChildGateway,
  killLeftoverGateways,
  startChildGateway,
} from './support/child-gateway.js';
import { irisRows, waitForReplay } from './support/replay.js';
import { readReplay } from './support/replay-responses.js';

const TOKEN = 'replay-stop-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'modelgate-replay-stop-'));
afterEach(killLeftoverGateways);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Slow enough that the replay is surely running when the gateway is stopped. */
const env = (dbPath: string) => ({
  MODELGATE_DB: dbPath,
  MODELGATE_CONTROL_TOKEN: TOKEN,
  MODELGATE_REPLAY_MAX_ROWS_PER_S: '20',
});

const control = (gateway: ChildGateway, method: string, path: string, body?: unknown) =>
  fetch(`${gateway.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** Serves 300 rows, starts a replay of them and waits until it has replayed some. */
async function replayUnderWay(gateway: ChildGateway): Promise<string> {
  const from = Date.now();
  const served = await fetch(`${gateway.url}/predict/iris`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances: irisRows(300, 3) }),
  });
  expect(served.status).toBe(200);
  const res = await control(gateway, 'POST', '/control/replay', {
    model: 'iris',
    candidate: 'v2',
    since: from,
  });
  expect(res.status).toBe(202);
  const { id } = await readReplay(res);
  await expect
    .poll(
      async () =>
        (await readReplay(await control(gateway, 'GET', `/control/replay/${id}`))).progress.rows,
      {
        timeout: 30_000,
      },
    )
    .toBeGreaterThan(0);
  return id;
}

function stored(dbPath: string, id: string) {
  const db = new Database(dbPath, { readonly: true });
  try {
    const job = db.prepare('SELECT * FROM replays WHERE id = ?').get(id) as {
      status: string;
      error: string | null;
      rows_done: number;
      report: string | null;
    };
    const { n } = db
      .prepare('SELECT count(*) AS n FROM replay_results WHERE replay_id = ?')
      .get(id) as {
      n: number;
    };
    return { job, results: n };
  } finally {
    db.close();
  }
}

describe('a gateway stopping mid-replay', () => {
  it('SIGTERM: the replay ends failed with what it had done, every result row kept', async () => {
    const dbPath = join(dir, 'term.db');
    const gateway = await startChildGateway(env(dbPath));
    const id = await replayUnderWay(gateway);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    const { job, results } = stored(dbPath, id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/^the gateway stopped after \d+ of 300 rows$/);
    expect(job.rows_done).toBeGreaterThan(0);
    expect(job.rows_done).toBeLessThan(300);
    expect(results).toBe(job.rows_done);
    expect(JSON.parse(job.report as string).rows.read).toBe(job.rows_done);
  });

  it('SIGKILL: the next gateway shows it failed (abandoned), not running forever', async () => {
    const dbPath = join(dir, 'kill.db');
    const first = await startChildGateway(env(dbPath));
    const id = await replayUnderWay(first);
    await first.stop('SIGKILL');
    const second = await startChildGateway(env(dbPath));
    const job = await waitForReplay(
      async (replay) => readReplay(await control(second, 'GET', `/control/replay/${replay}`)),
      id,
      'failed',
      30_000,
    );
    expect(job.error).toMatch(/^abandoned/);
    // Progress is written after the rows it counts: the table holds at least as many.
    expect(stored(dbPath, id).results).toBeGreaterThanOrEqual(job.progress.rows);
    await second.stop('SIGTERM');
  });
});
