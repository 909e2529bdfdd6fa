import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.js';
import { latencyBucketOf } from '../src/db/latency-buckets.js';
import { openStorage } from '../src/db/open-storage.js';
import type { PredictionRecord } from '../src/db/predictions.js';
import { spillFilesIn, writeSpillFile } from '../src/db/spill.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import type { Storage } from '../src/db/storage.js';

const MINUTE = 60_000;
const START = 29_000_000 * MINUTE; // a whole minute, so windows below can be ragged on purpose
const dir = mkdtempSync(join(tmpdir(), 'modelgate-rollup-'));
let storage: Storage;
const rows: PredictionRecord[] = [];

beforeAll(async () => {
  storage = openSqliteStorage(join(dir, 'log.db'), {
    flushRows: 500,
    flushMs: 10,
    maxQueue: 10_000,
  });
  // Five minutes of traffic, two versions, some errors and shadows, latencies 20 µs – 20 ms.
  for (let i = 0; i < 3000; i++) {
    const shadow = i % 11 === 0;
    rows.push({
      id: `p-${i}`,
      ts: START + Math.floor((i * 5 * MINUTE) / 3000),
      model: 'iris',
      version: i % 3 === 0 ? 'v2' : 'v1',
      route: shadow ? 'shadow' : 'split',
      userHash: null,
      requestId: `r-${i}`,
      input: '{}',
      output: null,
      label: 'setosa',
      score: 0.9,
      latencyUs: Math.round(20 * 1.0023 ** i),
      status: i % 17 === 0 ? 'error' : 'ok',
      error: null,
      shadowOf: shadow ? `p-${i - 1}` : null,
    });
  }
  // Appended in uneven slices, as requests arrive: the rollup must add up across flushes.
  for (let i = 0; i < rows.length; i += 137) {
    storage.predictionLog.append(rows.slice(i, i + 137));
    await storage.predictionLog.flush();
  }
});

afterAll(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Buckets straight from the rows: what the percentiles must be computed from. */
function expectedBuckets(since: number, until: number) {
  const counts = new Map<string, number>();
  for (const r of rows) {
    if (r.ts < since || r.ts >= until || r.status !== 'ok' || r.shadowOf !== null) continue;
    const key = `${r.version}/${latencyBucketOf(r.latencyUs)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => a.localeCompare(b));
}

describe('latency percentiles from the rollup', () => {
  const windows: Array<[string, number, number]> = [
    ['the whole log', 0, START + 10 * MINUTE],
    ['ragged at both ends, spanning whole minutes', START + 17_345, START + 3 * MINUTE + 41_002],
    ['inside one minute', START + MINUTE + 5_000, START + MINUTE + 50_000],
    ['exactly on minute boundaries', START + MINUTE, START + 4 * MINUTE],
    ['empty', START + 20 * MINUTE, START + 21 * MINUTE],
  ];
  for (const [name, since, until] of windows) {
    it(`counts every served, successful row in its bucket: ${name}`, async () => {
      const { latencyBuckets } = await storage.queries.compareRows({ model: 'iris', since, until });
      const got = latencyBuckets
        .map((b) => [`${b.version}/${b.bucket}`, b.count] as [string, number])
        .sort(([a], [b]) => a.localeCompare(b));
      expect(got).toEqual(expectedBuckets(since, until));
    });
  }
});

describe('a replay of rows partly logged already (a spill file written twice)', () => {
  it('adds to the rollup only the rows that were new, however they mix within one statement', async () => {
    const replayDir = mkdtempSync(join(tmpdir(), 'modelgate-rollup-replay-'));
    const again = openSqliteStorage(join(replayDir, 'log.db'), {
      flushRows: 500,
      flushMs: 10,
      maxQueue: 10_000,
    });
    try {
      again.predictionLog.append(rows.slice(0, 1000));
      await again.predictionLog.flush();
      // 32 rows all logged, then logged and new rows alternating, then a tail of 5 new rows.
      const replay: PredictionRecord[] = rows.slice(0, 32);
      for (let i = 0; i < 500; i++)
        replay.push(rows[500 + i] as PredictionRecord, rows[1000 + i] as PredictionRecord);
      replay.push(...rows.slice(1500, 1505));
      await again.predictionLog.replay(replay);

      const logged = rows.slice(0, 1505);
      const until = START + 10 * MINUTE;
      const { latencyBuckets, counts } = await again.queries.compareRows({
        model: 'iris',
        since: 0,
        until,
      });
      const got = latencyBuckets
        .map((b) => [`${b.version}/${b.bucket}`, b.count] as [string, number])
        .sort(([a], [b]) => a.localeCompare(b));
      const want = new Map<string, number>();
      for (const r of logged) {
        if (r.status !== 'ok' || r.shadowOf !== null) continue;
        const key = `${r.version}/${latencyBucketOf(r.latencyUs)}`;
        want.set(key, (want.get(key) ?? 0) + 1);
      }
      expect(got).toEqual([...want].sort(([a], [b]) => a.localeCompare(b)));
      // And each row is in the log once.
      expect(counts.reduce((sum, c) => sum + c.n, 0)).toBe(
        logged.filter((r) => r.shadowOf === null).length,
      );
    } finally {
      await again.close();
      rmSync(replayDir, { recursive: true, force: true });
    }
  });
});

// Both writers: the rows rejected come back from the thread by position, inline as rows.
describe.each(['thread', 'inline'] as const)(
  'rows within one 16-row statement that the log cannot take as they are (%s writer)',
  (logWriter) => {
    const sixteen = (): PredictionRecord[] =>
      rows.slice(0, 16).map((r) => ({ ...r, status: 'ok', shadowOf: null, route: 'split' }));
    const withLog = async (
      test: (log: Storage['predictionLog'], db: Database.Database) => Promise<void>,
    ) => {
      const logDir = mkdtempSync(join(tmpdir(), 'modelgate-rollup-odd-'));
      const rejected: PredictionRecord[][] = [];
      const log = openSqliteStorage(
        join(logDir, 'log.db'),
        {
          flushRows: 500,
          flushMs: 10,
          maxQueue: 10_000,
          onRowsRejected: (rows) => rejected.push([...rows]),
        },
        { logWriter },
      );
      const db = new Database(join(logDir, 'log.db'), { readonly: true });
      try {
        await test(log.predictionLog, db);
      } finally {
        db.close();
        // A short deadline: a queue that cannot drain hands its rows back instead of retrying 30 s.
        await log.close(Date.now() + 1_000);
        rmSync(logDir, { recursive: true, force: true });
      }
      return rejected;
    };
    const logged = (db: Database.Database) =>
      (db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number }).n;
    const inRollup = (db: Database.Database) =>
      (db.prepare('SELECT coalesce(sum(count), 0) AS n FROM latency_rollup').get() as { n: number })
        .n;

    it('the same id twice in one statement is logged once and counted once in the rollup', async () => {
      await withLog(async (log, db) => {
        const group = sixteen();
        group[15] = { ...(group[0] as PredictionRecord) };
        await log.replay(group);
        expect(logged(db)).toBe(15);
        expect(inRollup(db)).toBe(15);
        expect(log.rowsRejected).toBe(0);
      });
    });

    it('a spill line missing a required field is rejected and counted out loud; the 15 others are logged', async () => {
      let bad: PredictionRecord | undefined;
      const rejected = await withLog(async (log, db) => {
        const group = sixteen();
        bad = { ...(group[7] as PredictionRecord), requestId: undefined as unknown as string };
        group[7] = bad;
        await log.replay(group);
        expect(logged(db)).toBe(15);
        expect(inRollup(db)).toBe(15);
        expect(log.rowsRejected).toBe(1);
      });
      expect(rejected).toEqual([[bad]]);
    });

    it('such a row in the live queue does not hold the queue: the rest is written, the row counted', async () => {
      const rejected = await withLog(async (log, db) => {
        const group = sixteen();
        group[3] = { ...(group[3] as PredictionRecord), input: null as unknown as string };
        log.append(group);
        await log.flush();
        expect(log.queueDepth).toBe(0);
        expect(logged(db)).toBe(15);
        expect(inRollup(db)).toBe(15);
        expect(log.rowsRejected).toBe(1);
        expect(log.rowsWritten).toBe(15);
      });
      expect(rejected.flat().map((r) => r.id)).toEqual(['p-3']);
    });
  },
);

describe('a spill file with a line the database rejects, at start', () => {
  it('starts, writes the other lines, deletes the file and logs the rejected row as an error', async () => {
    const startDir = mkdtempSync(join(tmpdir(), 'modelgate-rollup-spill-'));
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const good = rows.slice(0, 20);
    const bad = { ...(rows[20] as PredictionRecord), model: null as unknown as string };
    writeSpillFile(startDir, [...good.slice(0, 10), bad, ...good.slice(10)]);
    const config = readConfig({
      MODELGATE_DB: join(startDir, 'log.db'),
      MODELGATE_SPILL_DIR: startDir,
    });
    const opened = await openStorage(config, logger);
    try {
      expect(spillFilesIn(startDir)).toEqual([]);
      expect(opened.predictionLog.rowsRejected).toBe(1);
      const errors = lines.map((line) => JSON.parse(line)).filter((l) => l.level === 50);
      expect(errors).toEqual([
        expect.objectContaining({
          rows: 1,
          ids: [bad.id],
          msg: '1 prediction rows rejected by the database (a required field is missing): not logged',
        }),
      ]);
      const db = new Database(config.dbPath, { readonly: true });
      const { n } = db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number };
      db.close();
      expect(n).toBe(20);
    } finally {
      await opened.close(Date.now() + 1_000);
      rmSync(startDir, { recursive: true, force: true });
    }
  });
});
