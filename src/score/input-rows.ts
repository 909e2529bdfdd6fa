import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { badRequest } from '../errors.js';

/**
 * Rows of a scoring input file, one at a time: JSON lines (one object per line) or
 * CSV with a header line. Read as a stream, so a file of any size takes the memory
 * of one line.
 */
export type InputFormat = 'jsonl' | 'csv';

export type InputRow =
  | { line: number; values: Record<string, unknown> }
  | { line: number; error: string; text: string };

export function inputFormatOf(path: string, explicit?: string): InputFormat {
  const format = explicit ?? (path.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');
  if (format !== 'csv' && format !== 'jsonl') {
    throw badRequest(`--input-format: "${format}" is not csv or jsonl`);
  }
  return format;
}

/** One CSV record (RFC 4180 quoting within a line: `"a ""b"", c"`). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"' && field === '') {
      quoted = true;
    } else if (char === ',') {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  fields.push(field);
  return fields;
}

/** CSV cells are text: numbers become numbers, empty cells are left out (a missing feature). */
function csvValue(cell: string): unknown {
  const trimmed = cell.trim();
  if (trimmed === '') return undefined;
  const number = Number(trimmed);
  return Number.isNaN(number) ? trimmed : number;
}

export function parseJsonLine(line: number, text: string): InputRow {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { line, error: `not JSON: ${(error as Error).message}`, text };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { line, error: 'expected a JSON object of feature values', text };
  }
  return { line, values: value as Record<string, unknown> };
}

export function parseCsvLine(line: number, text: string, header: readonly string[]): InputRow {
  const cells = splitCsvLine(text);
  if (cells.length !== header.length) {
    return { line, error: `expected ${header.length} cells, got ${cells.length}`, text };
  }
  const values: Record<string, unknown> = {};
  header.forEach((name, i) => {
    const value = csvValue(cells[i] as string);
    if (value !== undefined) values[name] = value;
  });
  return { line, values };
}

export interface InputReader {
  rows: AsyncIterable<InputRow>;
  /** Share of the file read so far (0–1), for the progress bar. */
  fraction(): number;
}

export function readInputRows(path: string, format: InputFormat): InputReader {
  const size = statSync(path).size;
  const stream = createReadStream(path);
  async function* rows(): AsyncGenerator<InputRow> {
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    let header: string[] | undefined;
    let line = 0;
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      if (format === 'jsonl') {
        yield parseJsonLine(line, text);
      } else if (!header) {
        header = splitCsvLine(text).map((name) => name.trim());
      } else {
        yield parseCsvLine(line, text, header);
      }
    }
  }
  return { rows: rows(), fraction: () => (size === 0 ? 1 : stream.bytesRead / size) };
}
