import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, readConfig } from '../src/config.js';
import type { LogArchive } from '../src/db/log-archive.js';
import type { PredictionRecord } from '../src/db/predictions.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { MINUTE_MS } from '../src/db/stats-queries.js';
import { startLogRetention } from '../src/retention/log-retention.js';
import { retainedReplays, seedRetentionReplays } from './support/replay.js';
import { readCompare } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

const HOUR_MS = 3_600_000;

function row(i: number, ts: number): PredictionRecord {
  return {
    id: `row-${String(i).padStart(6, '0')}`,
    ts,
    model: 'iris',
    version: i % 2 ? 'v2' : 'v1',
    route: 'split',
    userHash: null,
    requestId: `req-${i}`,
    input: '{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}',
    output: '{"setosa":0.9,"versicolor":0.05,"virginica":0.05}',
    label: 'setosa',
    score: 0.9,
    latencyUs: 200 + (i % 50),
    status: 'ok',
    error: null,
    shadowOf: null,
  };
}

describe('MODELGATE_LOG_RETENTION', () => {
  it('takes a duration of at least an hour; unset keeps everything', () => {
    expect(readConfig({}).logRetentionMs).toBeNull();
    expect(readConfig({ MODELGATE_LOG_RETENTION: '30d' }).logRetentionMs).toBe(30 * 24 * HOUR_MS);
    expect(readConfig({ MODELGATE_LOG_RETENTION: '36h' }).logRetentionMs).toBe(36 * HOUR_MS);
    for (const bad of ['10m', '30', 'forever']) {
      expect(() => readConfig({ MODELGATE_LOG_RETENTION: bad })).toThrow(ConfigError);
      expect(() => readConfig({ MODELGATE_LOG_RETENTION: bad })).toThrow(
        /MODELGATE_LOG_RETENTION.*at least 1h/,
      );
    }
  });
});

describe('retention pass', () => {
  /** An archive holding `rows` old rows that records every batch it is asked for. */
  function fakeArchive(rows: number) {
    let left = rows;
    const calls: Array<{ before: number; limit: number }> = [];
    const archive: LogArchive = {
      count: async () => left,
      page: async () => [],
      async deleteBefore(before, limit) {
        calls.push({ before, limit });
        const deleted = Math.min(left, limit);
        left -= deleted;
        return deleted;
      },
    };
    return { archive, calls, left: () => left };
  }

  it('deletes in batches until a batch comes back short, everything before now − retention', async () => {
    const fake = fakeArchive(1234);
    const deleted: number[] = [];
    const retention = startLogRetention({
      archive: fake.archive,
      retentionMs: 2 * HOUR_MS,
      leads: () => true,
      now: () => 10 * HOUR_MS,
      batchRows: 500,
      pauseMs: 0,
      intervalMs: 3_600_000,
      onDeleted: (rows) => deleted.push(rows),
    });
    await vi.waitFor(() => expect(fake.left()).toBe(0));
    await retention.close();
    expect(fake.calls.map((c) => c.limit)).toEqual([500, 500, 500]);
    expect(new Set(fake.calls.map((c) => c.before))).toEqual(new Set([8 * HOUR_MS]));
    expect(deleted).toEqual([1234]);
  });

  it('leaves the deleting to the replica that leads', async () => {
    const fake = fakeArchive(10);
    const retention = startLogRetention({
      archive: fake.archive,
      retentionMs: HOUR_MS,
      leads: () => false,
      intervalMs: 3_600_000,
    });
    expect(await retention.runOnce()).toBe(0);
    await retention.close();
    expect(fake.calls).toEqual([]);
  });

  it('stops between batches once closed', async () => {
    const fake = fakeArchive(1_000_000);
    const retention = startLogRetention({
      archive: fake.archive,
      retentionMs: HOUR_MS,
      leads: () => true,
      batchRows: 10,
      pauseMs: 1,
      intervalMs: 3_600_000,
    });
    await vi.waitFor(() => expect(fake.calls.length).toBeGreaterThan(2));
    await retention.close();
    const calls = fake.calls.length;
    expect(fake.left()).toBeGreaterThan(0);
    // The pass under way has ended and a new one deletes nothing.
    expect(await retention.runOnce()).toBe(0);
    expect(fake.calls.length).toBe(calls);
  });
});

describe('a gateway with MODELGATE_LOG_RETENTION=2h', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-retention-'));
  const now = Date.now();
  const old = Array.from({ length: 1200 }, (_, i) =>
    row(i, now - 3 * HOUR_MS + (i % 30) * MINUTE_MS),
  );
  const recent = Array.from({ length: 300 }, (_, i) => row(5000 + i, now - 10 * MINUTE_MS + i));
  let gate: TestGateway;

  beforeAll(async () => {
    // A log written before: predictions three hours old with feedback, and recent ones.
    const storage = openSqliteStorage(join(dir, 'modelgate.db'), {
      flushRows: 500,
      flushMs: 10,
      maxQueue: 100_000,
    });
    storage.predictionLog.append([...old, ...recent]);
    await storage.predictionLog.flush();
    for (const r of [...old.slice(0, 100), ...recent.slice(0, 10)]) {
      await storage.feedback.record(r.id, { label: 'setosa' }, r.ts + 1);
    }
    await seedRetentionReplays(storage.replays, now - 3 * HOUR_MS, now - 10 * MINUTE_MS);
    await storage.close();
    gate = await createTestGateway({ dir, env: { MODELGATE_LOG_RETENTION: '2h' } });
  });
  afterAll(async () => {
    await gate?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes the predictions, feedback and latency rollup older than 2h, and nothing newer', async () => {
    await vi.waitFor(
      async () =>
        expect(
          await gate.query("SELECT count(*) AS n FROM predictions WHERE id LIKE 'row-%'"),
        ).toEqual([{ n: 300 }]),
      { timeout: 20_000, interval: 100 },
    );
    expect((await gate.query('SELECT min(ts) AS ts FROM predictions'))[0]).toMatchObject({
      ts: recent[0]?.ts,
    });
    expect(await gate.query('SELECT count(*) AS n FROM feedback')).toEqual([{ n: 10 }]);
    const cutoffMinute = Math.floor((now - 2 * HOUR_MS) / MINUTE_MS);
    expect(
      await gate.query('SELECT count(*) AS n FROM latency_rollup WHERE minute < ?', cutoffMinute),
    ).toEqual([{ n: 0 }]);
    expect(
      (await gate.query<{ n: number }>('SELECT count(*) AS n FROM latency_rollup'))[0]?.n,
    ).toBeGreaterThan(0);
  });

  it('deletes the replays that finished over 2h ago with their results; running, queued and newer ones stay', async () => {
    // old-done's 250 results take three batches of 100.
    await vi.waitFor(
      async () =>
        expect(await retainedReplays(gate.gate.storage.replays)).toEqual({
          'old-done': undefined,
          'old-cancelled': undefined,
          'old-failed': undefined,
          'old-running': 40,
          'old-queued': 0,
          'recent-done': 5,
        }),
      { timeout: 20_000, interval: 100 },
    );
    expect(await gate.query('SELECT count(*) AS n FROM replay_results')).toEqual([{ n: 45 }]);
  });

  it('says so when a /compare window reaches past the retention', async () => {
    const wide = await readCompare(await gate.request('/compare/iris?since=3h'));
    expect(wide.retention?.retentionMs).toBe(2 * HOUR_MS);
    expect(wide.retention?.message).toMatch(/the log keeps 2h/);
    const whole = await readCompare(await gate.request('/compare/iris'));
    expect(whole.retention?.keptSince).toBeGreaterThan(now - 2 * HOUR_MS - 1);
    const inside = await readCompare(await gate.request('/compare/iris?since=1h'));
    expect(inside.retention).toBeUndefined();
    expect(inside.versions.length).toBeGreaterThan(0);
  });
});
