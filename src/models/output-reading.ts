import type { OutputTransform } from './manifest.js';

export type Scores = Float32Array | Float64Array;

/**
 * A classifier's raw output as probabilities, labels.length per row: softmax or
 * sigmoid when the graph emits scores, and a binary classifier's one column p
 * expanded to (1 − p, p). Returns `raw` itself when there is nothing to do (the
 * bundled models: no copy on their hot path).
 */
export function toProbabilities(
  raw: Scores,
  rows: number,
  columns: number,
  transform: OutputTransform,
): Scores {
  if (transform === 'none' && columns > 1) return raw;
  if (columns === 1) {
    const out = new Float32Array(rows * 2);
    for (let row = 0; row < rows; row++) {
      const score = raw[row] as number;
      const p = transform === 'sigmoid' ? 1 / (1 + Math.exp(-score)) : score;
      out[row * 2] = 1 - p;
      out[row * 2 + 1] = p;
    }
    return out;
  }
  const out = new Float32Array(rows * columns);
  for (let offset = 0; offset < raw.length; offset += columns) {
    if (transform === 'sigmoid') {
      for (let k = 0; k < columns; k++) {
        out[offset + k] = 1 / (1 + Math.exp(-(raw[offset + k] as number)));
      }
      continue;
    }
    // Softmax, shifted by the row's maximum so large logits do not overflow exp.
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < columns; k++) max = Math.max(max, raw[offset + k] as number);
    let sum = 0;
    for (let k = 0; k < columns; k++) {
      const e = Math.exp((raw[offset + k] as number) - max);
      out[offset + k] = e;
      sum += e;
    }
    for (let k = 0; k < columns; k++) out[offset + k] = (out[offset + k] as number) / sum;
  }
  return out;
}

/**
 * Whether each row of probabilities is one: non-negative and summing to 1 (within
 * float32 rounding). Returns the first row that is not, or -1.
 */
export function firstImproperRow(probabilities: Scores, columns: number): number {
  for (let offset = 0, row = 0; offset < probabilities.length; offset += columns, row++) {
    let sum = 0;
    for (let k = 0; k < columns; k++) {
      const p = probabilities[offset + k] as number;
      if (p < -1e-6 || p > 1 + 1e-6) return row;
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-3) return row;
  }
  return -1;
}

/** A label output's values (INT64 as BigInt64Array, strings, INT32) as label strings. */
export function toLabelStrings(values: ArrayLike<unknown>): string[] {
  return Array.from(values, (v) => String(v));
}
