import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PredictionWithFeedback, readLog } from '../src/db/log-archive.js';
import { openPostgresStorage } from '../src/db/pg/storage.js';
import type { PredictionLogOptions, PredictionRecord } from '../src/db/predictions.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import { MINUTE_MS } from '../src/db/stats-queries.js';
import type { Storage } from '../src/db/storage.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';

const LOG: PredictionLogOptions = { flushRows: 500, flushMs: 10, maxQueue: 100_000 };
const T0 = Date.UTC(2026, 0, 1);

/**
 * 60 iris rows, three per millisecond-timestamp (keyset ties), a minute apart in groups,
 * plus 10 penguins rows; every fifth iris row has feedback.
 */
function records(): PredictionRecord[] {
  const rows: PredictionRecord[] = [];
  const add = (model: string, i: number, ts: number) =>
    rows.push({
      // Ids deliberately out of time order, so the keyset must order ties by id itself.
      id: `${model}-${String((i * 7919) % 1000).padStart(4, '0')}-${i}`,
      ts,
      model,
      version: i % 2 ? 'v2' : 'v1',
      route: 'split',
      userHash: null,
      requestId: `req-${i}`,
      input: JSON.stringify({ x: i }),
      output: JSON.stringify({ a: 0.75, b: 0.25 }),
      label: 'a',
      score: 0.75,
      latencyUs: 100 + i,
      status: 'ok',
      error: null,
      shadowOf: null,
      cached: i % 4 === 0,
    });
  for (let i = 0; i < 60; i++) add('iris', i, T0 + Math.floor(i / 3) * MINUTE_MS);
  for (let i = 0; i < 10; i++) add('penguins', i, T0 + i * MINUTE_MS);
  return rows;
}

const byTsThenId = (a: PredictionWithFeedback, b: PredictionWithFeedback) =>
  a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

async function collect(storage: Storage, since: number, until: number, pageRows: number) {
  const pages: PredictionWithFeedback[][] = [];
  for await (const page of readLog(storage.archive, { model: 'iris', since, until }, pageRows)) {
    pages.push(page);
  }
  return pages;
}

async function fill(storage: Storage): Promise<PredictionRecord[]> {
  const rows = records();
  storage.predictionLog.append(rows);
  await storage.predictionLog.flush();
  for (const row of rows.filter(
    (r) => r.model === 'iris' && Number(r.requestId.slice(4)) % 5 === 0,
  )) {
    await storage.feedback.record(row.id, { label: 'b', value: 1.5 }, row.ts + 5);
  }
  return rows;
}

const dialects: Array<{
  name: string;
  open: () => Promise<{ storage: Storage; rollupRows?: () => number; done: () => Promise<void> }>;
}> = [
  {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'modelgate-archive-'));
      const path = join(dir, 'log.db');
      const storage = openSqliteStorage(path, LOG);
      const reader = new Database(path, { readonly: true });
      return {
        storage,
        rollupRows: () =>
          (reader.prepare('SELECT count(*) AS n FROM latency_rollup').get() as { n: number }).n,
        async done() {
          reader.close();
          await storage.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const database: TestDatabase = await createTestDatabase();
      const storage = await openPostgresStorage({ url: database.url, log: LOG, refreshMs: 60_000 });
      return {
        storage,
        async done() {
          await storage.close();
          await database.drop();
        },
      };
    },
  },
];

describe.each(dialects)('log archive on $name', (dialect) => {
  let opened: Awaited<ReturnType<(typeof dialect)['open']>>;
  let storage: Storage;
  let rows: PredictionRecord[];
  beforeAll(async () => {
    opened = await dialect.open();
    storage = opened.storage;
    rows = await fill(storage);
  }, 30_000);
  afterAll(() => opened?.done(), 30_000);

  it('reads a range page by page, each row once, in (ts, id) order, with its feedback', async () => {
    const since = T0 + 2 * MINUTE_MS;
    const until = T0 + 15 * MINUTE_MS;
    const pages = await collect(storage, since, until, 7);
    const read = pages.flat();
    const expected = rows
      .filter((r) => r.model === 'iris' && r.ts >= since && r.ts < until)
      .map((r) => r.id);
    expect(read).toHaveLength(expected.length);
    expect(new Set(read.map((r) => r.id))).toEqual(new Set(expected));
    expect(read).toEqual([...read].sort(byTsThenId));
    expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);
    expect(await storage.archive.count({ model: 'iris', since, until })).toBe(expected.length);

    const first = read.find((r) => r.requestId === 'req-10');
    expect(first).toEqual({
      ...rows.find((r) => r.requestId === 'req-10' && r.model === 'iris'),
      feedbackLabel: 'b',
      feedbackValue: 1.5,
      feedbackTs: (first?.ts ?? 0) + 5,
    });
    expect(read.find((r) => r.requestId === 'req-7')).toMatchObject({
      feedbackLabel: null,
      feedbackValue: null,
      feedbackTs: null,
    });
  });

  it('deletes the oldest rows of every model in batches, with their feedback', async () => {
    const cutoff = T0 + 5 * MINUTE_MS;
    const older = rows.filter((r) => r.ts < cutoff).length; // 15 iris + 5 penguins
    const rollupBefore = opened.rollupRows?.() ?? 0;
    const batches: number[] = [];
    for (;;) {
      const deleted = await storage.archive.deleteBefore(cutoff, 6);
      batches.push(deleted);
      if (deleted < 6) break;
    }
    expect(batches.slice(0, -1).every((n) => n === 6)).toBe(true);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(older);

    const left = (await collect(storage, 0, T0 + 60 * MINUTE_MS, 100)).flat();
    expect(left.every((r) => r.ts >= cutoff)).toBe(true);
    expect(left).toHaveLength(60 - 15);
    expect(await storage.archive.count({ model: 'penguins', since: 0, until: cutoff })).toBe(0);
    expect(
      await storage.archive.count({ model: 'penguins', since: cutoff, until: T0 + MINUTE_MS * 60 }),
    ).toBe(5);
    // Feedback of deleted rows is gone: recording it again finds no prediction.
    const gone = rows.find((r) => r.model === 'iris' && r.ts < cutoff) as PredictionRecord;
    expect(await storage.feedback.prediction(gone.id)).toBeUndefined();
    expect(await storage.feedback.existing(gone.id)).toBeUndefined();
    if (opened.rollupRows) {
      // The latency rollup loses the minutes before the cutoff: 5 of iris and penguins each.
      expect(rollupBefore - opened.rollupRows()).toBeGreaterThanOrEqual(10);
      expect(opened.rollupRows()).toBeGreaterThan(0);
    }
    expect(await storage.archive.deleteBefore(cutoff, 6)).toBe(0);
  });
});
