import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
} from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../src/export/format.js';
import { PARQUET_COLUMNS } from '../src/export/parquet.js';
import { splitCsvLine } from '../src/score/input-rows.js';
import { PROJECT_ROOT } from './support/child-gateway.js';
import { parseJsonLines, readPrediction, schemas } from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

/** Runs `npm run export` beside a running gateway, on its SQLite file. */
function runExport(gate: TestGateway, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'npm',
      ['run', '--silent', 'export', '--', ...args],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, MODELGATE_DB: gate.dbPath, LOG_LEVEL: 'silent' },
      },
      (error, _stdout, stderr) => done({ code: error ? Number(error.code) : 0, stderr }),
    );
  });
}

let gate: TestGateway;
const ids: string[] = [];
beforeAll(async () => {
  gate = await createTestGateway();
  for (let i = 0; i < 30; i++) {
    const res = await gate.post('/predict/iris', {
      inputs: { ...IRIS_ROW, petal_length: 1 + i / 5 },
    });
    ids.push((await readPrediction(res)).predictionId);
  }
  await gate.post('/predict/penguins', {
    inputs: { bill_length_mm: 39, bill_depth_mm: 18, flipper_length_mm: 181, body_mass_g: 3750 },
  });
  for (const id of ids.slice(0, 10)) {
    expect((await gate.post('/feedback', { predictionId: id, label: 'versicolor' })).status).toBe(
      200,
    );
  }
});
afterAll(() => gate?.close());

describe('npm run export', () => {
  it('writes every prediction of the model with its feedback as CSV, in time order', async () => {
    const out = join(gate.dir, 'iris.csv');
    const run = await runExport(gate, ['--model', 'iris', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/30 rows/);
    const [header, ...lines] = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(header).toBe(CSV_COLUMNS.join(','));
    const rows = lines.map((line) =>
      Object.fromEntries(splitCsvLine(line).map((cell, i) => [CSV_COLUMNS[i], cell])),
    );
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(rows.every((r) => r.model === 'iris')).toBe(true);
    expect(rows.filter((r) => r.feedback_label === 'versicolor').map((r) => r.id)).toEqual(
      ids.slice(0, 10),
    );
    expect(JSON.parse(rows[0]?.input ?? '')).toEqual({ ...IRIS_ROW, petal_length: 1 });
    const logged = await gate.query<{ output: string }>(
      'SELECT output FROM predictions WHERE id = ?',
      ids[3],
    );
    expect(rows[3]?.output).toBe(logged[0]?.output);
  });

  it('writes JSON lines for a time window', async () => {
    const [fifth] = await gate.query<{ ts: number }>(
      'SELECT ts FROM predictions WHERE id = ?',
      ids[5],
    );
    const since = new Date(fifth?.ts ?? 0).toISOString();
    const out = join(gate.dir, 'iris.jsonl');
    const run = await runExport(gate, ['--model', 'iris', '--out', out, '--since', since]);
    expect(run.code, run.stderr).toBe(0);
    const rows = parseJsonLines(schemas.exportLine, readFileSync(out, 'utf8'));
    const expected = await gate.query<{ id: string }>(
      "SELECT id FROM predictions WHERE model = 'iris' AND ts >= ? ORDER BY ts, id",
      fifth?.ts,
    );
    expect(rows.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    expect(rows.map((r) => r.id)).toContain(ids[5]);
    expect(rows[0]?.input).toMatchObject({ sepal_length: 5.1 });
    expect(rows.find((r) => r.id === ids[9])?.feedback).toMatchObject({ label: 'versicolor' });
    expect(rows.find((r) => r.id === ids[20])?.feedback).toBeNull();
  });

  it('writes Parquet that reads back with every row, its columns and types', async () => {
    const out = join(gate.dir, 'iris.parquet');
    const run = await runExport(gate, ['--model', 'iris', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const file = await asyncBufferFromFile(out);
    const metadata = await parquetMetadataAsync(file);
    expect(Number(metadata.num_rows)).toBe(30);
    const schema = parquetSchema(metadata).children.map((c) => c.element.name);
    expect(schema).toEqual(PARQUET_COLUMNS);
    expect(PARQUET_COLUMNS).toEqual(CSV_COLUMNS);
    const rows = (await parquetReadObjects({ file })) as Array<Record<string, unknown>>;
    expect(rows.map((r) => r.id)).toEqual(ids);
    const logged = (
      await gate.query<{ ts: number; latency_us: number; score: number }>(
        'SELECT ts, latency_us, score FROM predictions WHERE id = ?',
        ids[3],
      )
    )[0];
    expect(rows[3]).toMatchObject({
      model: 'iris',
      ts: BigInt(logged?.ts ?? 0),
      time: new Date(logged?.ts ?? 0),
      latency_us: BigInt(logged?.latency_us ?? 0),
      score: logged?.score,
      input: { ...IRIS_ROW, petal_length: 1.6 },
      cached: false,
      feedback_label: 'versicolor',
    });
    expect(rows[20]).toMatchObject({ feedback_label: null, feedback_ts: null });
  });

  it('refuses Parquet to stdout and an unknown format, naming the option', async () => {
    const toStdout = await runExport(gate, [
      '--model',
      'iris',
      '--out',
      '-',
      '--format',
      'parquet',
    ]);
    expect(toStdout.code).toBe(2);
    expect(toStdout.stderr).toMatch(/--format parquet: needs a file/);
    const unknown = await runExport(gate, ['--model', 'iris', '--out', 'x', '--format', 'xlsx']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--format: "xlsx" is not csv, jsonl or parquet/);
  });
});
