import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../scripts/examples/prng.js';
import { readLog } from '../src/db/log-archive.js';
import { openPostgresStorage } from '../src/db/pg/storage.js';
import type { PredictionRecord } from '../src/db/predictions.js';
import { openSqliteStorage } from '../src/db/sqlite/storage.js';
import type { Storage } from '../src/db/storage.js';
import { csvLine, jsonLine } from '../src/export/format.js';
import { exportPages } from '../src/export/pages.js';
import { splitCsvLine } from '../src/score/input-rows.js';
import { createTestDatabase } from './support/pg-database.js';
import { parseJsonLines, present, schemas } from './support/responses.js';

/**
 * Both storages format export lines in SQL (src/db/sqlite/export-lines.ts,
 * src/db/pg/export-lines.ts); the JS formatters are the reference. They must write the
 * same bytes, for the awkward values too.
 */
const AWKWARD_TEXT = [
  null,
  'plain',
  'a,b',
  'say "hi"',
  'two\nlines',
  'carriage\rreturn',
  'tab\there',
  'ünïcødé ✓ 🙂',
  '',
  'back\\slash',
  '\u0001control',
];

function awkwardRecords(count: number): PredictionRecord[] {
  const random = createRandom(7);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)] as T;
  const base = Date.UTC(2026, 0, 1);
  return Array.from({ length: count }, (_, i) => {
    const score = pick([null, 0.5, Math.fround(random()), random(), 1, 0, 1e-7, 123456789.125]);
    return {
      id: `0199${String(i).padStart(6, '0')}-${i % 3}`,
      // Milliseconds of every kind, ties included (keyset pages split them).
      ts: base + Math.floor(i / 3) * 997 + (i % 5 === 0 ? 999 : i % 1000),
      model: 'iris',
      version: pick(['v1', 'v2', 'v1.2-rc_3']),
      route: pick(['live', 'split', 'shadow', 'batch']),
      userHash: pick([null, '0123456789abcdef0123456789abcdef']),
      requestId: pick(AWKWARD_TEXT) ?? 'req',
      input: JSON.stringify({ x: random() * 10, name: pick(AWKWARD_TEXT), n: [1, 2.5, -3e-9] }),
      output: pick([null, JSON.stringify({ 'a,"b"': Math.fround(random()), c: 0.25 })]),
      label: pick(AWKWARD_TEXT),
      score,
      latencyUs: Math.floor(random() * 1e6),
      status: pick(['ok', 'error'] as const),
      error: pick(AWKWARD_TEXT),
      shadowOf: pick([null, `0199${String(i).padStart(6, '0')}-s`]),
      cached: random() < 0.3,
    };
  });
}

const LOG = { flushRows: 500, flushMs: 10, maxQueue: 100_000 };
const storages: Array<{ name: string; open: () => Promise<[Storage, () => Promise<void>]> }> = [
  {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'modelgate-export-lines-'));
      const storage = openSqliteStorage(join(dir, 'log.db'), LOG);
      return [
        storage,
        async () => {
          await storage.close();
          rmSync(dir, { recursive: true, force: true });
        },
      ];
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const database = await createTestDatabase();
      const storage = await openPostgresStorage({ url: database.url, log: LOG, refreshMs: 60_000 });
      return [
        storage,
        async () => {
          await storage.close();
          await database.drop();
        },
      ];
    },
  },
];

describe.each(storages)('export lines formatted by $name', ({ open }) => {
  let storage: Storage;
  let done: () => Promise<void>;
  const range = { model: 'iris', since: 0, until: Date.UTC(2027, 0, 1) };
  beforeAll(async () => {
    [storage, done] = await open();
    const rows = awkwardRecords(1_500);
    storage.predictionLog.append(rows);
    await storage.predictionLog.flush();
    const random = createRandom(11);
    for (const row of rows.filter((_, i) => i % 4 === 0)) {
      const label = random() < 0.5 ? 'a,"b"\nc' : null;
      const value = label === null || random() < 0.5 ? random() * 100 - 50 : null;
      await storage.feedback.record(row.id, { label, value }, row.ts + 7);
    }
  }, 60_000);
  afterAll(() => done(), 60_000);

  for (const format of ['csv', 'jsonl'] as const) {
    it(`writes the same ${format} bytes as the JS formatter, across page boundaries`, async () => {
      const line = format === 'csv' ? csvLine : jsonLine;
      let expected = '';
      for await (const page of readLog(storage.archive, range, 1_000)) {
        for (const row of page) expected += line(row);
      }
      let got = '';
      let rows = 0;
      for await (const page of exportPages(storage.archive, range, format, 97)) {
        got += page.text;
        rows += page.rows;
      }
      expect(rows).toBe(1_500);
      expect(got.length).toBeGreaterThan(0);
      expect(got).toBe(expected);
    });
  }

  it('writes lines that read back: CSV cells and JSON values', async () => {
    let csv = '';
    for await (const page of exportPages(storage.archive, range, 'csv', 500)) csv += page.text;
    let jsonl = '';
    for await (const page of exportPages(storage.archive, range, 'jsonl', 500)) jsonl += page.text;
    const objects = parseJsonLines(schemas.exportLine, jsonl);
    expect(objects).toHaveLength(1_500);
    const withFeedback = objects.filter((o) => o.feedback !== null);
    expect(withFeedback).toHaveLength(375);
    expect(objects.some((o) => o.cached === true)).toBe(true);
    // Quoted cells may hold line breaks: the first line (unbroken) reads back to its row.
    const first = present(objects[0], 'the first exported line');
    const cells = splitCsvLine(csv.slice(0, csv.indexOf('\n', csv.indexOf(first.id))));
    expect(cells[0]).toBe(first.id);
    expect(cells[1]).toBe(first.time);
  });
});
