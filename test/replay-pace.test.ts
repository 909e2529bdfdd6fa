import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './support/child-gateway.js';
import { serveIrisRows, waitForReplay } from './support/replay.js';
import { readReplay, readReplayList, reportOf } from './support/replay-responses.js';
import { present } from './support/responses.js';
import { CONTROL_TOKEN, createTestGateway, type TestGateway } from './support/test-gateway.js';

/** A low bound, so the pace (not the machine) decides how long a replay takes. */
const MAX_ROWS_PER_S = 40;
let gw: TestGateway;
let from: number;
let until: number;

const get = async (id: string) => readReplay(await gw.control('GET', `/control/replay/${id}`));

beforeAll(async () => {
  gw = await createTestGateway({
    env: { MODELGATE_REPLAY_MAX_ROWS_PER_S: String(MAX_ROWS_PER_S) },
  });
  ({ from, until } = await serveIrisRows(gw, 400, 5));
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

describe('replay pace and cancel', () => {
  it('keeps to MODELGATE_REPLAY_MAX_ROWS_PER_S, measured over the job’s own run', async () => {
    const res = await gw.control('POST', '/control/replay', {
      model: 'iris',
      candidate: 'v2',
      since: from,
      until,
      limit: 60,
    });
    expect(res.status).toBe(202);
    const job = await waitForReplay(get, (await readReplay(res)).id);
    expect(job.progress).toEqual({ rows: 60, total: 60 });
    expect(reportOf(job).rows.read).toBe(60);
    const seconds = (present(job.finishedAt) - present(job.startedAt)) / 1000;
    const measured = 60 / seconds;
    expect(job.rate.maxRowsPerS).toBe(MAX_ROWS_PER_S);
    expect(job.rate.rowsPerS).toBeCloseTo(measured, 9);
    expect(measured).toBeLessThanOrEqual(MAX_ROWS_PER_S);
  });

  it('DELETE cancels a running replay: it stops, keeping the report of the rows so far', async () => {
    const res = await gw.control('POST', '/control/replay', {
      model: 'iris',
      candidate: 'v2',
      since: from,
      until,
    });
    const { id } = await readReplay(res);
    await expect
      .poll(async () => (await get(id)).progress.rows, { timeout: 30_000 })
      .toBeGreaterThan(0);
    const cancelled = await gw.request(`/control/replay/${id}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer control-secret-for-tests' },
    });
    expect(cancelled.status).toBe(200);
    expect((await readReplay(cancelled)).status).toBe('cancelled');
    // The runner notices, stops, and leaves the report of what it had replayed.
    await expect.poll(async () => (await get(id)).report, { timeout: 30_000 }).toBeDefined();
    const job = await get(id);
    expect(job.status).toBe('cancelled');
    expect(job.progress.rows).toBeLessThan(400);
    expect(reportOf(job).rows.read).toBe(job.progress.rows);
    const [stored] = await gw.query<{ n: number }>(
      'SELECT count(*) AS n FROM replay_results WHERE replay_id = ?',
      id,
    );
    expect(stored?.n).toBe(job.progress.rows);
    // A second DELETE changes nothing: a finished job stays as it ended.
    const again = await gw.request(`/control/replay/${id}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer control-secret-for-tests' },
    });
    expect((await readReplay(again)).progress.rows).toBe(job.progress.rows);
  });

  it('a running replay declared abandoned (a replica lost track of its heartbeat) keeps the report of its rows', async () => {
    const res = await gw.control('POST', '/control/replay', {
      model: 'iris',
      candidate: 'v2',
      since: from,
      until,
    });
    const { id } = await readReplay(res);
    await expect
      .poll(async () => (await get(id)).progress.rows, { timeout: 30_000 })
      .toBeGreaterThan(0);
    // What another replica's sweep does when this one's heartbeats look stale.
    const other = new Database(gw.dbPath);
    try {
      other
        .prepare(
          `UPDATE replays SET status = 'failed', error = 'abandoned: (test)', finished_at = ?
           WHERE id = ? AND status = 'running'`,
        )
        .run(Date.now(), id);
    } finally {
      other.close();
    }
    // The runner sees it at its next progress write and files what it had replayed.
    await expect.poll(async () => (await get(id)).report, { timeout: 30_000 }).toBeDefined();
    const job = await get(id);
    expect(job.status).toBe('failed');
    expect(job.error).toBe('abandoned: (test)');
    expect(reportOf(job).rows.read).toBe(job.progress.rows);
    const [stored] = await gw.query<{ n: number }>(
      'SELECT count(*) AS n FROM replay_results WHERE replay_id = ?',
      id,
    );
    expect(stored?.n).toBe(job.progress.rows);
  });

  it('npm run replay exits 1 when the replay is cancelled under it, printing what it had', async () => {
    const run = promisify(execFile)(
      'npm',
      [
        'run',
        '--silent',
        'replay',
        '--',
        '--model',
        'iris',
        '--candidate',
        'v2',
        '--since',
        String(from),
        '--url',
        gw.url,
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, MODELGATE_CONTROL_TOKEN: CONTROL_TOKEN } },
    ).then(
      () => null,
      (error: { code: number; stdout: string }) => error,
    );
    // The CLI's job, once it has replayed some rows: cancelled from outside (the dashboard, another operator).
    let id = '';
    await expect
      .poll(
        async () => {
          const { replays } = await readReplayList(
            await gw.control('GET', '/control/replay?model=iris'),
          );
          const running = replays.find((r) => r.status === 'running' && r.progress.rows > 0);
          id = running?.id ?? '';
          return id;
        },
        { timeout: 30_000 },
      )
      .not.toBe('');
    await gw.request(`/control/replay/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${CONTROL_TOKEN}` },
    });
    const failed = await run;
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toMatch(new RegExp(`^replay ${id}: iris, candidate v2`, 'm'));
    expect(failed?.stdout).toMatch(/^cancelled; \d+ rows/m);
    // With the report of the rows replayed before the cancel.
    expect(failed?.stdout).toMatch(/^\d+ served rows read: \d+ replayed/m);
  });
});
