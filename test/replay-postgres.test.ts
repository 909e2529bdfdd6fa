import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayRecord } from '../src/db/replays.js';
import type { Storage } from '../src/db/storage.js';
import { createReplayService, type ReplayServiceDeps } from '../src/replay/service.js';
import { startLogRetention } from '../src/retention/log-retention.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import {
  IRIS_LABELS,
  irisRows,
  labelsFromOnnx,
  retainedReplays,
  seedRetentionReplays,
  servedRecord,
  waitForReplay,
} from './support/replay.js';
import {
  classifierReport,
  readReplay,
  readReplayList,
  reportOf,
} from './support/replay-responses.js';
import { present } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

let database: TestDatabase;
/** Two replicas on one PostgreSQL, and a SQLite gateway holding the same log. */
let a: TestGateway;
let b: TestGateway;
let lite: TestGateway;
const from = Date.now() - 3_600_000;

/** 300 served rows of v1 (5 logged as errors), feedback on the first 200. */
async function seed(storage: Pick<Storage, 'predictionLog' | 'feedback'>, truth: string[]) {
  const inputs = irisRows(300, 31);
  storage.predictionLog.append(
    inputs.map((input, i) =>
      servedRecord(
        `row-${i}`,
        from + i,
        input,
        i < 5 ? null : (IRIS_LABELS[i % 3] as string),
        i < 5 ? { status: 'error', error: 'boom' } : {},
      ),
    ),
  );
  await storage.predictionLog.flush();
  for (let i = 5; i < 200; i++) {
    await storage.feedback.record(`row-${i}`, { label: truth[i] as string }, from + 1000);
  }
}

/** A job as a replica that is running it wrote it, at `at` by that replica's clock. */
const runningJob = (id: string, at: number): ReplayRecord => ({
  id,
  model: 'iris',
  candidate: 'v2',
  since: from,
  until: from + 1000,
  limitRows: null,
  maxRowsPerS: 2000,
  status: 'running',
  rowsDone: 120,
  total: 300,
  report: null,
  error: null,
  createdAt: at,
  startedAt: at,
  finishedAt: null,
  heartbeatAt: at,
});

const unusedDep = (): never => {
  throw new Error('not used by get()');
};

/** A statement on the test database, as an operator (or another replica) would run it. */
async function sql(statement: string) {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function replayOn(gw: TestGateway, observer = gw) {
  const res = await gw.control('POST', '/control/replay', {
    model: 'iris',
    candidate: 'v2',
    since: from,
    until: from + 1000,
  });
  expect(res.status).toBe(202);
  const { id } = await readReplay(res);
  return waitForReplay(
    async (job) => readReplay(await observer.control('GET', `/control/replay/${job}`)),
    id,
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  const env = { MODELGATE_DATABASE_URL: database.url };
  a = await createTestGateway({ env });
  b = await createTestGateway({ env });
  lite = await createTestGateway();
  // Feedback: v2's own label on even rows, another on odd ones — both versions have hits.
  const v2 = await labelsFromOnnx('v2', irisRows(300, 31));
  const truth = v2.map((label, i) =>
    i % 2 === 0 ? label : (IRIS_LABELS[(IRIS_LABELS.indexOf(label) + 1) % 3] as string),
  );
  await seed(a.gate.storage, truth);
  await seed(lite.gate.storage, truth);
}, 120_000);
afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), lite?.close()]);
  await database?.drop();
}, 60_000);

describe('replay on PostgreSQL', () => {
  it('gives the same report as SQLite on the same log, figure for figure', async () => {
    const [onPg, onSqlite] = await Promise.all([replayOn(a), replayOn(lite)]);
    const { latencyUs: pgLatency, ...pgFigures } = classifierReport(onPg);
    const { latencyUs: sqliteLatency, ...sqliteFigures } = classifierReport(onSqlite);
    expect(pgFigures.rows).toEqual({ read: 300, replayed: 295, failed: 0, skipped: 5 });
    expect(present(pgFigures.feedback).rows).toBe(195);
    expect(pgFigures).toEqual(sqliteFigures);
    expect(pgLatency.p50).toBeGreaterThan(0);
    expect(sqliteLatency.p50).toBeGreaterThan(0);
  });

  it('a job posted to one replica is seen, with its progress and report, from the other', async () => {
    const job = await replayOn(a, b);
    expect(job.status).toBe('done');
    expect(reportOf(job).rows.read).toBe(300);
    const listed = await readReplayList(await b.control('GET', '/control/replay?model=iris'));
    expect(listed.replays.map((r) => r.id)).toContain(job.id);
  });

  it('DELETE on one replica stops the replay another runs, which keeps its partial report', async () => {
    // A third replica, slow enough that the job is surely running when it is cancelled.
    const slow = await createTestGateway({
      env: { MODELGATE_DATABASE_URL: database.url, MODELGATE_REPLAY_MAX_ROWS_PER_S: '20' },
    });
    try {
      const res = await slow.control('POST', '/control/replay', {
        model: 'iris',
        candidate: 'v2',
        since: from,
        until: from + 1000,
      });
      const { id } = await readReplay(res);
      const onB = async () => readReplay(await b.control('GET', `/control/replay/${id}`));
      await expect
        .poll(async () => (await onB()).progress.rows, { timeout: 30_000 })
        .toBeGreaterThan(0);
      const cancelled = await b.request(`/control/replay/${id}`, {
        method: 'DELETE',
        headers: { authorization: 'Bearer control-secret-for-tests' },
      });
      expect((await readReplay(cancelled)).status).toBe('cancelled');
      // The running replica sees it at its next progress write, stops and files its report.
      await expect.poll(async () => (await onB()).report, { timeout: 30_000 }).toBeDefined();
      const job = await onB();
      expect(job.status).toBe('cancelled');
      expect(job.progress.rows).toBeLessThan(300);
      expect(reportOf(job).rows.read).toBe(job.progress.rows);
      expect(await b.gate.storage.replays.results(id)).toHaveLength(job.progress.rows);
    } finally {
      await slow.close();
    }
  });

  it('a job whose replica went silent is shown failed (abandoned), never running forever', async () => {
    const long = Date.now() - 60_000;
    await a.gate.storage.replays.create(runningJob('from-a-dead-replica', long));
    // Its last heartbeat, by PostgreSQL's clock, a minute ago.
    await sql(
      `UPDATE replays SET heartbeat_at = (extract(epoch from now()) * 1000)::bigint - 60000
       WHERE id = 'from-a-dead-replica'`,
    );
    const job = await readReplay(await b.control('GET', '/control/replay/from-a-dead-replica'));
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/^abandoned/);
    expect(job.progress.rows).toBe(120);
  });

  it('replica clocks that disagree do not end a live job: heartbeats and the abandon check read PostgreSQL’s clock', async () => {
    // Replica A's clock is 20 s behind: its job and its heartbeats carry A's time.
    const behind = Date.now() - 20_000;
    await a.gate.storage.replays.create(runningJob('on-a-slow-clock', behind));
    await a.gate.storage.replays.heartbeat(['on-a-slow-clock'], behind);
    const onB = async () => readReplay(await b.control('GET', '/control/replay/on-a-slow-clock'));
    expect((await onB()).status).toBe('running');
    // A replica 20 s ahead sweeps for silent jobs as it reads.
    const ahead = createReplayService({
      replays: b.gate.storage.replays,
      now: () => Date.now() + 20_000,
      rows: b.gate.storage.queries,
      host: { get: () => undefined, require: () => unusedDep() },
      liveVersion: () => undefined,
      flushLog: async () => {},
      maxRowsPerS: 2000,
      onError: () => {},
    } satisfies ReplayServiceDeps);
    try {
      expect((await ahead.get('on-a-slow-clock')).status).toBe('running');
    } finally {
      await ahead.close();
    }
    expect((await onB()).status).toBe('running');
    await b.request('/control/replay/on-a-slow-clock', {
      method: 'DELETE',
      headers: { authorization: 'Bearer control-secret-for-tests' },
    });
  });

  it('log retention deletes replays that finished before its horizon, whole, on any replica’s data; never a running or queued one', async () => {
    const now = Date.now();
    await seedRetentionReplays(a.gate.storage.replays, now - 10 * 86_400_000, now);
    const deleted: number[] = [];
    // A day's retention: the seeded log (an hour old) and the replays above stay.
    const retention = startLogRetention({
      archive: a.gate.storage.archive,
      replays: a.gate.storage.replays,
      retentionMs: 86_400_000,
      leads: () => true,
      intervalMs: 3_600_000,
      // One job a batch, so the pass has to loop.
      batchRows: 1,
      pauseMs: 0,
      onReplaysDeleted: (rows) => deleted.push(rows),
    });
    try {
      await retention.runOnce();
    } finally {
      await retention.close();
    }
    expect(deleted).toEqual([3]);
    // Read through the other replica's connection.
    expect(await retainedReplays(b.gate.storage.replays)).toEqual({
      'old-done': undefined,
      'old-cancelled': undefined,
      'old-failed': undefined,
      'old-running': 40,
      'old-queued': 0,
      'recent-done': 5,
    });
    const { replays } = await readReplayList(await b.control('GET', '/control/replay?model=iris'));
    expect(replays.length).toBeGreaterThan(3);
  });

  it('log retention drops the day partitions a replay read; the replay and its report stay', async () => {
    const job = await replayOn(a);
    // Every day partition up to the day after tomorrow, and the rows in the default one.
    await a.gate.storage.archive.deleteBefore(Date.now() + 3 * 86_400_000, 100_000);
    expect(await a.gate.storage.replays.results(job.id)).toHaveLength(300);
    const after = await readReplay(await b.control('GET', `/control/replay/${job.id}`));
    expect(after.report).toEqual(job.report);
    // And the log is empty: a replay over the same window now reads nothing.
    const again = await replayOn(a);
    expect(reportOf(again).rows.read).toBe(0);
  });
});
