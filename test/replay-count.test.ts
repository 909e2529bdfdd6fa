import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVED_COUNT_PAGE_ROWS } from '../src/db/sqlite/stats-queries.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import type { Storage } from '../src/db/storage.js';

const T0 = 1_800_000_000_000;
/** A millisecond holding more than a page, then one row per ms, and some noise. */
const SAME_MS = SERVED_COUNT_PAGE_ROWS + 7;
const SPREAD = SERVED_COUNT_PAGE_ROWS * 2 + 11;

let dir: string;
let storage: Storage;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-count-'));
  const path = join(dir, 'log.db');
  storage = openSqliteStorage(path, { flushRows: 500, flushMs: 10, maxQueue: 10_000 });
  const db = new Database(path);
  const insert = (count: number, id: string, ts: string, model: string, shadowOf: string) =>
    db.exec(`WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ${count - 1})
      INSERT INTO predictions (id, ts, model, version, route, user_hash, request_id, input, output,
        label, score, latency_us, status, error, shadow_of, cached)
      SELECT ${id}, ${ts}, '${model}', 'v1', 'live', NULL, 'r', '{"a":1}', NULL, 'setosa', 0.9,
        100, 'ok', NULL, ${shadowOf}, 0 FROM c`);
  insert(SAME_MS, "printf('a%09d', i)", `${T0}`, 'iris', 'NULL');
  insert(SPREAD, "printf('b%09d', i)", `${T0 + 1} + i`, 'iris', 'NULL');
  // Shadow rows and another model's rows in the same range are not iris's served rows.
  insert(1_000, "printf('s%09d', i)", `${T0} + i * 3`, 'iris', "printf('b%09d', i)");
  insert(1_000, "printf('p%09d', i)", `${T0} + i`, 'penguins', 'NULL');
  db.close();
});
afterAll(async () => {
  await storage?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('counting a replay window on SQLite', () => {
  it('counts every served row of the window exactly, across pages and a millisecond fuller than a page', async () => {
    const count = (since: number, until: number) =>
      storage.queries.servedCount({ model: 'iris', since, until });
    expect(await count(T0, T0 + 1 + SPREAD)).toBe(SAME_MS + SPREAD);
    expect(await count(T0, T0 + 1)).toBe(SAME_MS);
    expect(await count(T0 + 1, T0 + 1 + SPREAD)).toBe(SPREAD);
    expect(await count(T0 + 100, T0 + 100 + SERVED_COUNT_PAGE_ROWS)).toBe(SERVED_COUNT_PAGE_ROWS);
    expect(await count(T0 - 10, T0)).toBe(0);
    expect(await count(T0 + 1 + SPREAD, T0 + 1 + SPREAD + 10)).toBe(0);
  });

  it('lets the event loop run between pages: a big window does not hold it for the whole count', async () => {
    let ranMeanwhile = false;
    setImmediate(() => {
      ranMeanwhile = true;
    });
    const n = await storage.queries.servedCount({
      model: 'iris',
      since: T0,
      until: T0 + 1 + SPREAD,
    });
    expect(n).toBe(SAME_MS + SPREAD);
    expect(ranMeanwhile).toBe(true);
  });
});
