import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './support/child-gateway.js';
import { parseJsonLines, readPrediction, schemas } from './support/responses.js';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

/** Runs `npm run score` beside a running gateway, on its SQLite file and models. */
function score(gate: TestGateway, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'npm',
      ['run', '--silent', 'score', '--', ...args],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          MODELGATE_DB: gate.dbPath,
          MODELGATE_MODELS_DIR: gate.modelsDir,
          LOG_LEVEL: 'silent',
        },
      },
      (error, _stdout, stderr) => done({ code: error ? Number(error.code) : 0, stderr }),
    );
  });
}

const readLines = (path: string) => parseJsonLines(schemas.scoreLine, readFileSync(path, 'utf8'));
const readErrors = (path: string) => parseJsonLines(schemas.scoreError, readFileSync(path, 'utf8'));

let gate: TestGateway;
beforeAll(async () => {
  gate = await createTestGateway();
  const split = await gate.control('PUT', '/control/split', {
    model: 'iris',
    weights: { v1: 50, v2: 50 },
  });
  expect(split.status).toBe(200);
});
afterAll(() => gate?.close());

describe('npm run score', () => {
  it('scores every valid row through the split, sticky by user, logging each with route batch', async () => {
    const rows = Array.from({ length: 240 }, (_, i) => ({
      ...IRIS_ROW,
      petal_length: 1 + (i % 60) / 10,
      id: `user-${i % 40}`,
    }));
    const lines = rows.map((row) => JSON.stringify(row));
    lines.splice(10, 0, JSON.stringify({ ...IRIS_ROW, petal_width: 'wide', id: 'user-x' }));
    lines.splice(20, 0, '{not json');
    lines.splice(30, 0, JSON.stringify({ ...IRIS_ROW, colour: 1, id: 'user-y' }));
    const input = join(gate.dir, 'rows.jsonl');
    const out = join(gate.dir, 'predictions.jsonl');
    writeFileSync(input, `${lines.join('\n')}\n`);

    const run = await score(gate, [
      '--model',
      'iris',
      '--in',
      input,
      '--out',
      out,
      '--user-column',
      'id',
    ]);
    // 3: some rows were rejected, each with its reason in the errors file.
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/240 scored.*3 rejected/);

    const predictions = readLines(out);
    expect(predictions).toHaveLength(240);
    // Output in input order, skipping the rejected lines 11, 21 and 31.
    expect(predictions.map((p) => p.line)).toEqual(
      Array.from({ length: 243 }, (_, i) => i + 1).filter((line) => ![11, 21, 31].includes(line)),
    );
    expect(new Set(predictions.map((p) => p.version))).toEqual(new Set(['v1', 'v2']));

    // Same version as the live gateway gives the same user: the same sticky routing.
    for (const user of ['user-0', 'user-1', 'user-2', 'user-3', 'user-7']) {
      const res = await gate.post('/predict/iris', { inputs: IRIS_ROW }, { 'x-user-id': user });
      const served = await readPrediction(res);
      for (const p of predictions.filter((q) => q.id === user))
        expect(p.version).toBe(served.version);
    }

    const errors = readErrors(`${out}.errors.jsonl`);
    expect(errors.map((e) => e.line)).toEqual([11, 21, 31]);
    expect(errors[0]?.error).toMatch(/^invalid_input: .*petal_width/);
    expect(errors[1]?.error).toMatch(/^not JSON/);
    expect(errors[2]?.error).toMatch(/colour: unknown feature/);

    const logged = await gate.query<{
      id: string;
      version: string;
      route: string;
      request_id: string;
    }>("SELECT id, version, route, request_id FROM predictions WHERE route = 'batch' ORDER BY id");
    expect(logged).toHaveLength(240);
    expect(new Set(logged.map((row) => row.request_id)).size).toBe(1);
    expect(logged[0]?.request_id).toMatch(/^score-/);
    const byId = new Map(logged.map((row) => [row.id, row.version]));
    for (const p of predictions) expect(byId.get(p.predictionId)).toBe(p.version);
  });

  it('scores a CSV file with one forced version', async () => {
    const input = join(gate.dir, 'rows.csv');
    const out = join(gate.dir, 'forced.jsonl');
    writeFileSync(
      input,
      'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n',
    );
    const before = (
      await gate.query<{ n: number }>("SELECT count(*) AS n FROM predictions WHERE route = 'batch'")
    )[0]?.n as number;
    const run = await score(gate, [
      '--model',
      'iris',
      '--in',
      input,
      '--out',
      out,
      '--version',
      'v2',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const predictions = readLines(out);
    expect(predictions.map((p) => [p.line, p.version, p.label])).toEqual([
      [2, 'v2', 'setosa'],
      [3, 'v2', 'virginica'],
    ]);
    expect(readFileSync(`${out}.errors.jsonl`, 'utf8')).toBe('');
    const after = await gate.query<{ n: number }>(
      "SELECT count(*) AS n FROM predictions WHERE route = 'batch' AND version = 'v2'",
    );
    expect(after[0]?.n).toBeGreaterThanOrEqual(2);
    expect(
      (
        await gate.query<{ n: number }>(
          "SELECT count(*) AS n FROM predictions WHERE route = 'batch'",
        )
      )[0]?.n,
    ).toBe(before + 2);
  });

  it('refuses a version that is not loaded before scoring anything', async () => {
    const input = join(gate.dir, 'rows.csv');
    const out = join(gate.dir, 'none.jsonl');
    const unknownVersion = await score(gate, [
      '--model',
      'iris',
      '--in',
      input,
      '--out',
      out,
      '--version',
      'v9',
    ]);
    expect(unknownVersion.code).toBe(2);
    expect(unknownVersion.stderr).toMatch(/no loaded version "v9"/);
  });
});
