import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentEvent, DeploymentState } from '../src/db/deployment-state.js';
import { openPostgresStorage, type PostgresStorageOptions } from '../src/db/pg/storage.js';
import type { PredictionLogOptions, PredictionRecord } from '../src/db/predictions.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import type { Storage } from '../src/db/storage.js';
import { AppError } from '../src/errors.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const LOG: PredictionLogOptions = { flushRows: 500, flushMs: 10, maxQueue: 100_000 };

let database: TestDatabase;
let sql: pg.Pool;
/** Two "replicas" on one database; a long refreshMs so only NOTIFY can deliver quickly. */
let a: Storage;
let b: Storage;
const opened: Storage[] = [];

async function open(
  options: Partial<Omit<PostgresStorageOptions, 'log'>> & {
    log?: Partial<PredictionLogOptions>;
  } = {},
) {
  const storage = await openPostgresStorage({
    url: database.url,
    refreshMs: 60_000,
    ...options,
    log: { ...LOG, ...options.log },
  });
  opened.push(storage);
  return storage;
}

beforeAll(async () => {
  database = await createTestDatabase();
  sql = new pg.Pool({ connectionString: database.url });
  // pool.end() resolves before its sockets close; the DROP ... WITH (FORCE) in afterAll may
  // then kill one, which the pool reports as an 'error' event: without a listener, a crash.
  sql.on('error', () => {});
  // Started together, as replicas of one rollout are: the advisory lock serializes migrating.
  [a, b] = await Promise.all([open(), open()]);
}, 30_000);

afterAll(async () => {
  await Promise.all(opened.map((storage) => storage.close()));
  await sql?.end();
  await database?.drop();
}, 30_000);

const state = (model: string, revision: number, live = 'v1'): DeploymentState => ({
  model,
  live,
  standby: null,
  history: [],
  split: null,
  source: 'local',
  pinned: false,
  shadow: null,
  hosted: {},
  revision,
});

const event = (
  model: string,
  action: DeploymentEvent['action'],
  ts = Date.now(),
  to: string | null = null,
): DeploymentEvent => ({
  model,
  action,
  from: null,
  to,
  actor: 'test',
  reason: null,
  detail: { note: action },
  ts,
});

const countRows = async (model: string): Promise<number> =>
  (await sql.query('SELECT count(*)::int AS n FROM predictions WHERE model = $1', [model])).rows[0]
    .n;

const record = (model: string, overrides: Partial<PredictionRecord> = {}): PredictionRecord => ({
  id: uuidv7(),
  ts: Date.now(),
  model,
  version: 'v1',
  route: 'live',
  userHash: null,
  requestId: 'req',
  input: '[[5.1,3.5,1.4,0.2]]',
  output: '{"label":"setosa"}',
  label: 'setosa',
  score: 0.9,
  latencyUs: 120,
  status: 'ok',
  error: null,
  shadowOf: null,
  ...overrides,
});

describe('deployments across replicas', () => {
  it('a commit on one replica reaches the other within a second, by notification', async () => {
    await a.deployments.commit(state('notify', 0), event('notify', 'init'));
    await expect
      .poll(() => b.deployments.get('notify')?.live === 'v1', { timeout: 1_000 })
      .toBe(true);

    await a.deployments.commit(state('notify', 1, 'v2'), event('notify', 'promote'));
    await expect
      .poll(() => b.deployments.get('notify')?.revision === 1, { timeout: 1_000 })
      .toBe(true);
    expect(b.deployments.get('notify')).toEqual(state('notify', 1, 'v2'));
  });

  it('a change that sent no notification still arrives with the periodic re-read', async () => {
    const c = await open({ refreshMs: 200 });
    expect(c.deployments.get('quiet')).toBeUndefined();
    // Written behind every replica's back: no pg_notify, as if the notification was lost.
    await sql.query(
      `INSERT INTO deployments (model, live, standby, history, split, source, pinned, shadow, revision, updated_at)
       VALUES ('quiet', 'v7', NULL, '["v6"]', '{"v7":90,"v8":10}', 'local', true, NULL, 4, 0)`,
    );
    await expect
      .poll(() => c.deployments.get('quiet')?.revision === 4, { timeout: 1_000 })
      .toBe(true);
    expect(c.deployments.get('quiet')).toEqual({
      ...state('quiet', 4, 'v7'),
      history: ['v6'],
      split: { v7: 90, v8: 10 },
      pinned: true,
    });
    // The replica that only listens has not seen it: the re-read is what delivered it.
    expect(a.deployments.get('quiet')).toBeUndefined();
    await sql.query(`DELETE FROM deployments WHERE model = 'quiet'`);
    await expect
      .poll(() => c.deployments.get('quiet') === undefined, { timeout: 1_000 })
      .toBe(true);
  });

  it('compare-and-set: of two replicas changing the same revision, exactly one wins', async () => {
    const created = await Promise.allSettled([
      a.deployments.commit(state('cas', 0), event('cas', 'init', 1_000)),
      b.deployments.commit(state('cas', 0), event('cas', 'init', 1_001)),
    ]);
    expectOneWinner(created);
    await expect.poll(() => a.deployments.get('cas') !== undefined, { timeout: 1_000 }).toBe(true);
    await expect.poll(() => b.deployments.get('cas') !== undefined, { timeout: 1_000 }).toBe(true);

    const changed = await Promise.allSettled([
      a.deployments.commit(state('cas', 1, 'from-a'), event('cas', 'promote', 2_000, 'from-a')),
      b.deployments.commit(state('cas', 1, 'from-b'), event('cas', 'flip', 2_001, 'from-b')),
    ]);
    expectOneWinner(changed);
    const winner = changed[0].status === 'fulfilled' ? 'from-a' : 'from-b';
    const loser = winner === 'from-a' ? b : a;

    // The loser re-reads (as the control service does after a 409) and its retry goes through.
    expect((await loser.deployments.reload('cas'))?.live).toBe(winner);
    await loser.deployments.commit(state('cas', 2, 'third'), event('cas', 'split', 3_000));
    await expect
      .poll(() => a.deployments.get('cas')?.live === 'third', { timeout: 1_000 })
      .toBe(true);
    await expect
      .poll(() => b.deployments.get('cas')?.live === 'third', { timeout: 1_000 })
      .toBe(true);
    const stored = await sql.query(`SELECT revision, live FROM deployments WHERE model = 'cas'`);
    expect(stored.rows).toEqual([{ revision: 2, live: 'third' }]);

    // One event per successful commit, newest first, nothing from the losers.
    const events = await b.deployments.events('cas', 10);
    expect(events.map((e) => e.action)).toEqual([
      'split',
      winner === 'from-a' ? 'promote' : 'flip',
      'init',
    ]);
    expect(events.map((e) => e.ts)).toEqual([
      3_000,
      winner === 'from-a' ? 2_000 : 2_001,
      expect.any(Number),
    ]);
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect(events[0]).toMatchObject({ model: 'cas', actor: 'test', detail: { note: 'split' } });
    expect(await b.deployments.events('cas', 1)).toHaveLength(1);

    // A stale revision is refused even without a race.
    await expect(
      a.deployments.commit(state('cas', 2, 'stale'), event('cas', 'flip')),
    ).rejects.toMatchObject({ status: 409, code: 'conflict' });
    expect(a.deployments.get('cas')?.live).toBe('third');
  });
});

function expectOneWinner(results: PromiseSettledResult<void>[]): void {
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  const [failure] = results.filter((r) => r.status === 'rejected');
  expect(failure?.reason).toBeInstanceOf(AppError);
  expect(failure?.reason).toMatchObject({ status: 409, code: 'conflict' });
}

describe('prediction log on PostgreSQL', () => {
  it('writes every appended row, in statements of 1,000, once flushed', async () => {
    const rows = Array.from({ length: 2_345 }, (_, i) =>
      record('log', { latencyUs: i, label: i % 2 ? 'a' : null, score: i % 3 ? i / 7 : null }),
    );
    for (let i = 0; i < rows.length; i += 100) a.predictionLog.append(rows.slice(i, i + 100));
    await a.predictionLog.flush();
    expect(a.predictionLog.queueDepth).toBe(0);
    expect(a.predictionLog.rowsWritten).toBeGreaterThanOrEqual(rows.length);
    expect(await countRows('log')).toBe(rows.length);
    const sample = rows[1_234] as PredictionRecord;
    const stored = await sql.query('SELECT * FROM predictions WHERE id = $1', [sample.id]);
    expect(stored.rows[0]).toMatchObject({
      model: 'log',
      latency_us: String(sample.latencyUs),
      label: sample.label,
      score: sample.score,
      shadow_of: null,
    });
  });

  it('writes rows whose text PostgreSQL would refuse (NUL) instead of stalling the log', async () => {
    a.predictionLog.append([
      record('nul', { status: 'error', error: 'bad key "x\0y"', label: null, output: null }),
      record('nul'),
    ]);
    await a.predictionLog.flush();
    expect(await countRows('nul')).toBe(2);
    const { rows } = await sql.query(
      `SELECT error FROM predictions WHERE model = 'nul' AND error IS NOT NULL`,
    );
    expect(rows).toEqual([{ error: 'bad key "x\uFFFDy"' }]);
  });

  it('sets aside a row missing a required field (a damaged spill line), counts it, and writes the rest', async () => {
    const rejected: PredictionRecord[] = [];
    const log = (await open({ log: { onRowsRejected: (rows) => rejected.push(...rows) } }))
      .predictionLog;
    const bad = { ...record('required'), requestId: undefined as unknown as string };
    const worse = { ...record('required'), input: null as unknown as string };
    log.append([record('required'), bad, record('required')]);
    await log.flush();
    await log.replay([record('required'), worse]);
    expect(await countRows('required')).toBe(3);
    expect(rejected).toEqual([bad, worse]);
    expect(log.rowsRejected).toBe(2);
    expect(log.queueDepth).toBe(0);
  });

  it('refuses with a 503, adding nothing, once maxQueue rows wait', async () => {
    const log = (await open({ log: { maxQueue: 100, flushRows: 1_000, flushMs: 60_000 } }))
      .predictionLog;
    log.append(Array.from({ length: 80 }, () => record('full')));
    let refused: unknown;
    try {
      log.append(Array.from({ length: 21 }, () => record('full')));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ status: 503, code: 'unavailable' });
    expect((refused as Error).message).toMatch(/80 rows wait for the database/);
    expect(log.queueDepth).toBe(80);
    log.append(Array.from({ length: 20 }, () => record('full'))); // exactly maxQueue fits
    await log.flush();
    expect(await countRows('full')).toBe(100);
    log.append([record('full')]); // room again once written
    await log.close();
    expect(await countRows('full')).toBe(101);
  });

  it('close() writes what is still queued', async () => {
    const storage = await open({ log: { flushRows: 1_000, flushMs: 60_000 } });
    storage.predictionLog.append(Array.from({ length: 7 }, () => record('drain')));
    await storage.close();
    expect(await countRows('drain')).toBe(7);
  });
});

describe('stats queries', () => {
  it('compareRows and trafficPerMinute give the same numbers as SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-pg-vs-sqlite-'));
    const lite = openSqliteStorage(join(dir, 'modelgate.db'), LOG);
    try {
      const model = 'same';
      const t0 = 1_700_000_000_000;
      // Deterministic traffic: three versions, all routes, errors, feedback, shadows.
      let seed = 42;
      const rand = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed / 2_147_483_648;
      };
      const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
      const labels = ['setosa', 'versicolor', 'virginica', null] as const;
      const rows: PredictionRecord[] = [];
      // Label, numeric value or both; values in eighths, so every sum is exact in a double.
      const feedback: Array<[string, { label?: string; value?: number }, number]> = [];
      for (let i = 0; i < 3_000; i++) {
        const ts = t0 + Math.floor(rand() * 10 * 60_000);
        const status = rand() < 0.1 ? 'error' : 'ok';
        const served = record(model, {
          ts,
          version: pick(['v1', 'v2']),
          route: pick(['live', 'split', 'flag', 'pinned']),
          label: status === 'ok' ? pick(labels) : null,
          latencyUs: Math.floor(rand() ** 3 * 2_000_000),
          status,
          error: status === 'error' ? 'boom' : null,
        });
        rows.push(served);
        if (rand() < 0.3) {
          const shadowOk = rand() < 0.9;
          rows.push(
            record(model, {
              ts: ts + 1,
              version: 'v3',
              route: 'shadow',
              label: shadowOk ? pick(labels) : null,
              status: shadowOk ? 'ok' : 'error',
              latencyUs: Math.floor(rand() * 5_000),
              shadowOf: served.id,
            }),
          );
        }
        const given = rand();
        if (given < 0.4) {
          const label = pick(['setosa', 'versicolor']);
          const value = Math.round(rand() * 8_000 - 2_000) / 8;
          feedback.push([
            served.id,
            given < 0.15 ? { label } : given < 0.3 ? { label, value } : { value },
            ts + 5,
          ]);
        }
      }
      rows.push(record('other', { ts: t0 + 1_000 })); // another model: counted nowhere
      const events: Array<[DeploymentAction, number]> = [
        ['init', t0 - 1_000],
        ['split', t0 + 2 * 60_000 + 17],
        ['shadow', t0 + 3 * 60_000],
        ['rollout_step', t0 + 6 * 60_000 + 5],
        ['promote', t0 + 7 * 60_000],
      ];
      for (const storage of [a, lite]) {
        storage.predictionLog.append(rows);
        await storage.predictionLog.flush();
        // One at a time: a thousand at once outwait the pool's connection timeout on a busy machine.
        for (const [id, fields, ts] of feedback) await storage.feedback.record(id, fields, ts);
        for (const [revision, [action, ts]] of events.entries()) {
          await storage.deployments.commit(state(model, revision), event(model, action, ts));
        }
      }

      const windows = [
        { since: 0, until: t0 + 60 * 60_000 },
        { since: t0 + 60_000, until: t0 + 5 * 60_000 },
        { since: t0 + 4 * 60_000 + 123, until: t0 + 6 * 60_000 + 5 },
        { since: t0 - 10 * 60_000, until: t0 }, // before any traffic
        { since: 0, until: t0 + 60 * 60_000, fromSplitChange: true },
        { since: t0 + 60_000, until: t0 + 5 * 60_000, fromSplitChange: true },
      ];
      for (const window of windows) {
        const [fromPg, fromLite] = await Promise.all(
          [a, lite].map(async (s) => sorted(await s.queries.compareRows({ model, ...window }))),
        );
        // Means and squares are sums of doubles, added in each database's own order.
        const pgValues = fromPg?.feedbackValues ?? [];
        const liteValues = fromLite?.feedbackValues ?? [];
        // A regressor's shadow pairs sum errors (doubles) too: counts exact, sums close.
        const pairSums = [
          'servedAbsSum',
          'servedSqSum',
          'absDiffSum',
          'absDiffSqSum',
          'absDiffRange',
          'sqDiffSum',
          'sqDiffSqSum',
          'sqDiffRange',
        ] as const;
        const exact = (r: typeof fromPg) => ({
          ...r,
          feedbackValues: [],
          valueErrors: [],
          shadowPairs: sortRows(
            (r?.shadowPairs ?? []).map((pair) => ({
              ...pair,
              ...Object.fromEntries(pairSums.map((key) => [key, 0])),
            })),
          ),
          predictedValues: r?.predictedValues
            .map(({ mean: _, ...rest }) => rest)
            .sort((x, y) => x.version.localeCompare(y.version)),
        });
        expect(exact(fromPg)).toEqual(exact(fromLite));
        fromPg?.shadowPairs.forEach((pair) => {
          const lite = fromLite?.shadowPairs.find(
            (r) => r.served === pair.served && r.shadow === pair.shadow,
          );
          for (const key of pairSums) {
            const expected = lite?.[key] ?? Number.NaN;
            expect(Math.abs(pair[key] - expected)).toBeLessThanOrEqual(
              1e-12 * Math.max(1, Math.abs(expected)),
            );
          }
        });
        // A regressor's rows (a score, no label): the same counts and percentiles, close sums.
        fromPg?.predictedValues.forEach((row) => {
          const lite = fromLite?.predictedValues.find((r) => r.version === row.version);
          expect(row.mean).toBeCloseTo(lite?.mean ?? Number.NaN, 9);
        });
        const byVersion = (rows: Array<{ version: string; n: number }> = []) =>
          rows.map((r) => [r.version, r.n]).sort();
        expect(byVersion(fromPg?.valueErrors)).toEqual(byVersion(fromLite?.valueErrors));
        fromPg?.valueErrors.forEach((row) => {
          const lite = fromLite?.valueErrors.find((r) => r.version === row.version);
          expect(row.mae).toBeCloseTo(lite?.mae ?? Number.NaN, 9);
          expect(row.mse / (lite?.mse ?? Number.NaN)).toBeCloseTo(1, 10);
          expect(row.absSquares / (lite?.absSquares ?? Number.NaN)).toBeCloseTo(1, 10);
          expect(row.sqSquares / (lite?.sqSquares ?? Number.NaN)).toBeCloseTo(1, 10);
        });
        expect(pgValues.map((r) => [r.version, r.n])).toEqual(
          liteValues.map((r) => [r.version, r.n]),
        );
        pgValues.forEach((row, i) => {
          const lite = liteValues[i];
          expect(row.mean).toBeCloseTo(lite?.mean ?? Number.NaN, 9);
          expect(row.squares / (lite?.squares ?? Number.NaN)).toBeCloseTo(1, 10);
        });
      }
      const full = await a.queries.compareRows({ model, since: 0, until: t0 + 60 * 60_000 });
      expect(full.counts.length).toBe(10); // v1, v2 × 3 labels, no label, error
      expect(full.feedback.length).toBe(2);
      // Counted and summed by hand from the feedback sent.
      const sent = new Map(rows.map((r) => [r.id, r]));
      for (const row of full.feedbackValues) {
        const values = feedback
          .filter(([id, f]) => f.value !== undefined && sent.get(id)?.version === row.version)
          .map(([, f]) => f.value as number);
        const mean = values.reduce((x, y) => x + y, 0) / values.length;
        expect(row.n).toBe(values.length);
        expect(row.mean).toBeCloseTo(mean, 9);
        const squares = values.reduce((sum, x) => sum + (x - mean) ** 2, 0);
        expect(row.squares / squares).toBeCloseTo(1, 10);
      }
      expect(full.feedbackValues.length).toBe(2);
      // fromSplitChange starts at the last split change (rollout_step at t0 + 6 min + 5 ms).
      const current = await a.queries.compareRows({
        model,
        since: 0,
        until: t0 + 60 * 60_000,
        fromSplitChange: true,
      });
      const servedAfter = rows.filter(
        (r) => r.model === model && r.shadowOf === null && r.ts >= t0 + 6 * 60_000 + 5,
      ).length;
      expect(current.counts.reduce((sum, c) => sum + c.n, 0)).toBe(servedAfter);
      expect(full.shadowPairs.length).toBe(2);
      expect(full.splitChangedAt).toBe(t0 + 6 * 60_000 + 5);

      for (const [from, to] of [
        [t0, t0 + 10 * 60_000],
        [t0 + 3 * 60_000, t0 + 5 * 60_000 + 1],
      ] as const) {
        const [pgTraffic, liteTraffic] = await Promise.all([
          a.queries.trafficPerMinute(model, from, to),
          lite.queries.trafficPerMinute(model, from, to),
        ]);
        expect(sortRows(pgTraffic)).toEqual(sortRows(liteTraffic));
        expect(pgTraffic.every((row) => typeof row.minute === 'number')).toBe(true);
      }
    } finally {
      await lite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("a window that starts between a regressor's served rows and their shadows gives the pairs' errors on both", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-pg-vs-sqlite-edge-'));
    const lite = openSqliteStorage(join(dir, 'modelgate.db'), LOG);
    try {
      const model = 'edge';
      const t0 = 1_700_000_000_000;
      // A regressor's value, v2's mirrored one 10 ms later (the mirror runs after the
      // response), and the feedback value; in eighths, so every sum is exact. On the first
      // row both versions are 1.5 off: d = 0, which the counts of differing pairs leave out.
      const sent = [
        [10, 13, 11.5],
        [20, 17, 18],
        [30, 30.5, 29.25],
      ] as const;
      const rows: PredictionRecord[] = [];
      const values: Array<[string, number]> = [];
      for (const [i, [served, shadow, truth]] of sent.entries()) {
        const row = record(model, { ts: t0 + i, label: null, score: served, output: null });
        rows.push(
          row,
          record(model, {
            ts: t0 + i + 10,
            version: 'v2',
            route: 'shadow',
            label: null,
            score: shadow,
            output: null,
            shadowOf: row.id,
          }),
        );
        values.push([row.id, truth]);
      }
      for (const storage of [a, lite]) {
        storage.predictionLog.append(rows);
        await storage.predictionLog.flush();
        for (const [id, value] of values) await storage.feedback.record(id, { value }, t0 + 20);
      }
      // After every served row, before every shadow: the window holds no regressor's served row.
      const window = { model, since: t0 + 5, until: t0 + 60_000 };
      const [fromPg, fromLite] = await Promise.all(
        [a, lite].map((storage) => storage.queries.compareRows(window)),
      );
      const absolute = sent.map(([p, s, y]) => Math.abs(s - y) - Math.abs(p - y));
      const squared = sent.map(([p, s, y]) => (s - y) ** 2 - (p - y) ** 2);
      const sum = (xs: readonly number[]) => xs.reduce((x, y) => x + y, 0);
      const range = (xs: readonly number[]) => Math.max(...xs) - Math.min(...xs);
      const expected = {
        served: 'v1',
        shadow: 'v2',
        pairs: 3,
        unlabelledPairs: 3,
        same: 0,
        labelled: 0,
        valued: 3,
        servedAbsSum: sum(sent.map(([p, , y]) => Math.abs(p - y))),
        servedSqSum: sum(sent.map(([p, , y]) => (p - y) ** 2)),
        absDiffSum: sum(absolute),
        absDiffSqSum: sum(absolute.map((d) => d * d)),
        absDiffRange: range(absolute),
        absDiffNonzero: absolute.filter((d) => d !== 0).length,
        sqDiffSum: sum(squared),
        sqDiffSqSum: sum(squared.map((d) => d * d)),
        sqDiffRange: range(squared),
        sqDiffNonzero: squared.filter((d) => d !== 0).length,
      };
      expect([expected.absDiffNonzero, expected.sqDiffNonzero]).toEqual([2, 2]);
      for (const rowsOf of [fromPg, fromLite]) {
        expect(rowsOf?.predictedValues).toEqual([]);
        expect(rowsOf?.shadowPairs).toEqual([expect.objectContaining(expected)]);
      }
    } finally {
      await lite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

type DeploymentAction = DeploymentEvent['action'];

/** Row order is up to each database; the rows themselves must match exactly. */
function sortRows<T extends object>(rows: T[]): T[] {
  const key = (row: T) => JSON.stringify(Object.entries(row).sort(([x], [y]) => (x < y ? -1 : 1)));
  return [...rows].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
}

function sorted<T extends object>(rows: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(rows)) {
    out[name] = Array.isArray(value) ? sortRows(value) : value;
  }
  return out as T;
}

describe('database outage', () => {
  it('buffers predictions while PostgreSQL is unreachable, reports it, and writes them after', async () => {
    const proxy = await startTcpProxy(database.url);
    const warnings: string[] = [];
    const errors: number[] = [];
    try {
      const storage = await open({
        url: proxy.url,
        log: { flushMs: 20, onError: (_error, pending) => errors.push(pending) },
        onWarn: (message) => warnings.push(message),
      });
      storage.predictionLog.append(Array.from({ length: 10 }, () => record('outage')));
      await storage.predictionLog.flush();
      expect(storage.health()).toEqual({ ok: true, pendingRows: 0, accepting: true });

      await proxy.down();
      // Predictions keep being accepted: rows wait in memory, nothing is dropped.
      storage.predictionLog.append(Array.from({ length: 40 }, () => record('outage')));
      await expect(storage.predictionLog.flush()).rejects.toThrow();
      await expect.poll(() => !storage.health().ok, { timeout: 3_000 }).toBe(true);
      const health = storage.health();
      expect(health.pendingRows).toBe(40);
      expect(health.detail).toMatch(/^postgres unreachable: .*; 40 log rows buffered$/);
      expect(errors.at(-1)).toBe(40);
      storage.predictionLog.append(Array.from({ length: 5 }, () => record('outage')));
      // A control change cannot be made without the database: a 503, not a stale success.
      await expect(
        storage.deployments.commit(state('outage', 0), event('outage', 'init')),
      ).rejects.toMatchObject({ status: 503, code: 'unavailable' });
      expect(storage.deployments.get('outage')).toBeUndefined();

      // Writing keeps failing while it is down (an attempt made now, not a wait for the
      // background retry); every row is still held, none written.
      await expect(storage.predictionLog.flush()).rejects.toThrow();
      expect(storage.predictionLog.queueDepth).toBe(45);
      expect(storage.health().ok).toBe(false);
      expect(await countRows('outage')).toBe(10);

      await proxy.up();
      await expect
        .poll(async () => (await countRows('outage')) === 55, { timeout: 8_000 })
        .toBe(true);
      await expect.poll(() => storage.health().ok, { timeout: 8_000 }).toBe(true);
      expect(storage.health()).toEqual({ ok: true, pendingRows: 0, accepting: true });
      expect(warnings.some((w) => w.includes('listener'))).toBe(true);

      // And the replica works as before: changes from others reach it again.
      await a.deployments.commit(state('outage', 0), event('outage', 'init'));
      await expect
        .poll(() => storage.deployments.get('outage')?.live === 'v1', { timeout: 1_000 })
        .toBe(true);
    } finally {
      await proxy.close();
    }
  }, 20_000);
});
