import { describe, expect, it } from 'vitest';
import type { PredictionWithFeedback } from '../db/log-archive.js';
import { splitCsvLine } from '../score/input-rows.js';
import { CSV_COLUMNS, csvCell, csvHeader, csvLine, jsonLine } from './format.js';

const row: PredictionWithFeedback = {
  id: '0199-a',
  ts: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
  model: 'iris',
  version: 'v2',
  route: 'split',
  userHash: 'abc',
  requestId: 'req-1',
  input: '{"sepal_length":5.1,"sepal_width":3.5}',
  output: '{"setosa":0.9,"versicolor":0.1}',
  label: 'setosa',
  score: 0.9,
  latencyUs: 250,
  status: 'ok',
  error: null,
  shadowOf: null,
  feedbackLabel: 'versicolor',
  feedbackValue: 4.25,
  feedbackTs: 1_767_323_045_999,
};

describe('export formats', () => {
  it('quotes CSV cells only when they need it, doubling quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell(0.5)).toBe('0.5');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
  });

  it('writes one CSV line per row that reads back to the same cells, under the header', () => {
    expect(csvHeader()).toBe(`${CSV_COLUMNS.join(',')}\n`);
    const cells = splitCsvLine(csvLine(row).trimEnd());
    expect(cells).toHaveLength(CSV_COLUMNS.length);
    const byColumn = Object.fromEntries(CSV_COLUMNS.map((name, i) => [name, cells[i]]));
    expect(byColumn).toMatchObject({
      id: '0199-a',
      time: '2026-01-02T03:04:05.006Z',
      ts: String(row.ts),
      input: row.input,
      output: row.output,
      error: '',
      feedback_label: 'versicolor',
      feedback_ts: '1767323045999',
      feedback_value: '4.25',
    });
  });

  it('writes JSON lines with input and output as objects and feedback nested', () => {
    const parsed = JSON.parse(jsonLine(row));
    expect(parsed).toMatchObject({
      id: '0199-a',
      time: '2026-01-02T03:04:05.006Z',
      input: { sepal_length: 5.1, sepal_width: 3.5 },
      output: { setosa: 0.9, versicolor: 0.1 },
      feedback: { label: 'versicolor', value: 4.25, ts: 1_767_323_045_999 },
    });
    expect(
      JSON.parse(
        jsonLine({
          ...row,
          feedbackLabel: null,
          feedbackValue: null,
          feedbackTs: null,
          output: null,
        }),
      ),
    ).toMatchObject({ feedback: null, output: null });
    // A numeric outcome without a label is feedback too.
    expect(JSON.parse(jsonLine({ ...row, feedbackLabel: null })).feedback).toEqual({
      label: null,
      value: 4.25,
      ts: 1_767_323_045_999,
    });
  });
});
