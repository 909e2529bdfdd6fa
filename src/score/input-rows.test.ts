import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type InputRow,
  inputFormatOf,
  parseCsvLine,
  parseJsonLine,
  readInputRows,
  splitCsvLine,
} from './input-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'modelgate-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(rows: AsyncIterable<InputRow>): Promise<InputRow[]> {
  const all: InputRow[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

describe('scoring input rows', () => {
  it('splits CSV lines with quotes and doubled quotes', () => {
    expect(splitCsvLine('a,b,,c')).toEqual(['a', 'b', '', 'c']);
    expect(splitCsvLine('"x, y","say ""hi""",3')).toEqual(['x, y', 'say "hi"', '3']);
  });

  it('turns CSV cells into numbers, drops empty ones, and rejects a wrong cell count', () => {
    expect(parseCsvLine(2, '5.1, 3.5,,u1', ['a', 'b', 'c', 'id'])).toEqual({
      line: 2,
      values: { a: 5.1, b: 3.5, id: 'u1' },
    });
    expect(parseCsvLine(3, '1,2', ['a', 'b', 'c'])).toMatchObject({
      line: 3,
      error: 'expected 3 cells, got 2',
    });
  });

  it('reads JSON objects and names what is wrong with other lines', () => {
    expect(parseJsonLine(1, '{"a":1}')).toEqual({ line: 1, values: { a: 1 } });
    expect(parseJsonLine(2, '[1,2]')).toMatchObject({
      error: 'expected a JSON object of feature values',
    });
    expect(parseJsonLine(3, '{oops')).toMatchObject({
      line: 3,
      error: expect.stringMatching(/^not JSON/),
    });
  });

  it('streams a file with line numbers, skipping blank lines and the CSV header', async () => {
    const csv = join(dir, 'rows.csv');
    writeFileSync(csv, 'a,b\r\n1,2\n\n3,x\n');
    expect(inputFormatOf(csv)).toBe('csv');
    const reader = readInputRows(csv, 'csv');
    expect(await collect(reader.rows)).toEqual([
      { line: 2, values: { a: 1, b: 2 } },
      { line: 4, values: { a: 3, b: 'x' } },
    ]);
    expect(reader.fraction()).toBe(1);

    const jsonl = join(dir, 'rows.jsonl');
    writeFileSync(jsonl, '{"a":1}\nnope\n');
    expect(inputFormatOf(jsonl)).toBe('jsonl');
    const rows = await collect(readInputRows(jsonl, 'jsonl').rows);
    expect(rows.map((r) => r.line)).toEqual([1, 2]);
    expect(rows[1]).toMatchObject({ error: expect.stringMatching(/^not JSON/) });
  });
});
