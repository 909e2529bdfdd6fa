import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latencyBucketOf } from '../src/db/latency-buckets.js';
import type { PredictionRecord } from '../src/db/predictions.js';
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
