import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { latencyBucketOf } from '../src/db/latency-buckets.js';
import { openDatabase } from '../src/db/sqlite/client.js';

const MIGRATIONS = resolve(import.meta.dirname, '../migrations');
const dir = mkdtempSync(join(tmpdir(), 'modelgate-upgrade-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The migrations folder as it was before `tag`: a log written by an older modelgate. */
function migrationsBefore(tag: string): string {
  const folder = join(dir, 'old-migrations');
  cpSync(MIGRATIONS, folder, { recursive: true });
  const journalPath = join(folder, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8'));
  const at = journal.entries.findIndex((e: { tag: string }) => e.tag === tag);
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(journalPath, JSON.stringify(journal));
  return folder;
}

describe('upgrading a prediction log written before the latency rollup', () => {
  it('backfills latency_rollup from the rows already logged, as the writer would have', () => {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    migrate(drizzle(old), {
      migrationsFolder: migrationsBefore('0003_compare_indexes_latency_rollup'),
    });
    const insert = old.prepare(
      `INSERT INTO predictions (id, ts, model, version, route, request_id, input, latency_us, status, shadow_of)
       VALUES (?, ?, 'iris', ?, 'split', 'r', '{}', ?, ?, ?)`,
    );
    const rows = Array.from({ length: 500 }, (_, i) => ({
      id: `p-${i}`,
      ts: 1_700_000_000_000 + i * 7_919,
      version: i % 4 === 0 ? 'v2' : 'v1',
      latencyUs: i % 50 === 0 ? 0 : Math.round(15 * 1.013 ** i),
      status: i % 23 === 0 ? 'error' : 'ok',
      shadowOf: i % 31 === 0 ? 'p-0' : null,
    }));
    for (const r of rows) insert.run(r.id, r.ts, r.version, r.latencyUs, r.status, r.shadowOf);
    old.close();

    const upgraded = openDatabase(path).$client;
    const got = upgraded
      .prepare(
        `SELECT version, minute, bucket, count FROM latency_rollup
         ORDER BY version, minute, bucket`,
      )
      .all();
    upgraded.close();

    const expected = new Map<
      string,
      { version: string; minute: number; bucket: number; count: number }
    >();
    for (const r of rows) {
      if (r.status !== 'ok' || r.shadowOf !== null) continue;
      const minute = Math.floor(r.ts / 60_000);
      const bucket = latencyBucketOf(r.latencyUs);
      const key = `${r.version}/${minute}/${bucket}`;
      const entry = expected.get(key) ?? { version: r.version, minute, bucket, count: 0 };
      entry.count += 1;
      expected.set(key, entry);
    }
    const sortedExpected = [...expected.values()].sort(
      (a, b) => a.version.localeCompare(b.version) || a.minute - b.minute || a.bucket - b.bucket,
    );
    expect(got).toEqual(sortedExpected);
  });
});

describe('upgrading a prediction log written before numeric feedback', () => {
  it('keeps every label, leaves value empty, and refuses feedback with neither', () => {
    const path = join(dir, 'before-values.db');
    const old = new Database(path);
    migrate(drizzle(old), { migrationsFolder: migrationsBefore('0005_feedback_value') });
    const insert = old.prepare('INSERT INTO feedback (prediction_id, label, ts) VALUES (?, ?, ?)');
    for (let i = 0; i < 20; i++) insert.run(`p-${i}`, i % 3 === 0 ? 'setosa' : 'virginica', i);
    old.close();

    const upgraded = openDatabase(path).$client;
    const rows = upgraded
      .prepare('SELECT prediction_id AS id, label, value, ts FROM feedback ORDER BY ts')
      .all();
    expect(rows).toEqual(
      Array.from({ length: 20 }, (_, i) => ({
        id: `p-${i}`,
        label: i % 3 === 0 ? 'setosa' : 'virginica',
        value: null,
        ts: i,
      })),
    );
    upgraded.prepare("INSERT INTO feedback (prediction_id, value, ts) VALUES ('v', 2.5, 1)").run();
    expect(() =>
      upgraded.prepare("INSERT INTO feedback (prediction_id, ts) VALUES ('neither', 1)").run(),
    ).toThrow(/CHECK constraint failed/);
    upgraded.close();
  });
});

describe('upgrading a prediction log written before the prediction cache', () => {
  it('keeps every row, each marked not cached, and takes cached rows after', () => {
    const path = join(dir, 'before-cache.db');
    const old = new Database(path);
    migrate(drizzle(old), { migrationsFolder: migrationsBefore('0006_prediction_cache') });
    const insert = old.prepare(
      `INSERT INTO predictions (id, ts, model, version, route, request_id, input, latency_us, status)
       VALUES (?, ?, 'iris', 'v1', 'live', 'r', '{}', 10, 'ok')`,
    );
    for (let i = 0; i < 50; i++) insert.run(`p-${i}`, 1_700_000_000_000 + i);
    old.close();

    const upgraded = openDatabase(path).$client;
    expect(
      upgraded.prepare('SELECT count(*) AS n, sum(cached) AS cached FROM predictions').get(),
    ).toEqual({ n: 50, cached: 0 });
    upgraded
      .prepare(
        `INSERT INTO predictions (id, ts, model, version, route, request_id, input, latency_us, status, cached)
         VALUES ('new', 1, 'iris', 'v1', 'live', 'r', '{}', 1, 'ok', 1)`,
      )
      .run();
    expect(upgraded.prepare("SELECT cached FROM predictions WHERE id = 'new'").get()).toEqual({
      cached: 1,
    });
    upgraded.close();
  });
});
