import { LRUCache } from 'lru-cache';

/** Probabilities of each row, and which rows came from the cache instead of the model. */
export interface CachedRun {
  probabilities: Float32Array;
  /** One flag per row: true when the row's probabilities were remembered, not computed. */
  cached: boolean[];
  hits: number;
}

/**
 * The last probabilities of up to `maxRows` distinct input rows of one model version.
 * It belongs to one loaded session: a reload or unload replaces or drops the session
 * and this cache with it, so a row is never answered from a graph no longer served.
 */
export interface PredictionCache {
  /**
   * Answers each row of `features` (row-major, `width` per row) from the cache when
   * the same row was seen, and sends only the others to `compute` in one call.
   */
  run(
    features: Float32Array,
    rows: number,
    compute: (features: Float32Array, rows: number) => Promise<Float32Array>,
  ): Promise<CachedRun>;
  readonly size: number;
  clear(): void;
}

/**
 * The key is the row's FP32 bytes, exactly what the model would see: `{"inputs": {...}}`
 * and `[[...]]` forms of one row share an entry, and 5.1 and 5.10 are one row.
 */
function rowKey(features: Float32Array, row: number, width: number): string {
  const rowBytes = width * features.BYTES_PER_ELEMENT;
  const bytes = Buffer.from(features.buffer, features.byteOffset + row * rowBytes, rowBytes);
  return bytes.toString('latin1');
}

function allFinite(values: Float32Array): boolean {
  for (const value of values) if (!Number.isFinite(value)) return false;
  return true;
}

export function createPredictionCache(
  maxRows: number,
  width: number,
  classes: number,
): PredictionCache {
  const entries = new LRUCache<string, Float32Array>({ max: maxRows });
  return {
    async run(features, rows, compute) {
      const probabilities = new Float32Array(rows * classes);
      const cached = new Array<boolean>(rows).fill(false);
      const missed: number[] = [];
      const missedKeys: string[] = [];
      for (let row = 0; row < rows; row++) {
        const key = rowKey(features, row, width);
        const known = entries.get(key);
        if (known) {
          probabilities.set(known, row * classes);
          cached[row] = true;
        } else {
          missed.push(row);
          missedKeys.push(key);
        }
      }
      if (missed.length > 0) {
        const input = missed.length === rows ? features : gatherRows(features, missed, width);
        const computed = await compute(input, missed.length);
        for (let i = 0; i < missed.length; i++) {
          const row = computed.slice(i * classes, (i + 1) * classes);
          probabilities.set(row, (missed[i] as number) * classes);
          // A non-finite answer fails its request; remembering it would fail the next ones too.
          if (allFinite(row)) entries.set(missedKeys[i] as string, row);
        }
      }
      return { probabilities, cached, hits: rows - missed.length };
    },
    get size() {
      return entries.size;
    },
    clear: () => entries.clear(),
  };
}

function gatherRows(features: Float32Array, rows: readonly number[], width: number): Float32Array {
  const gathered = new Float32Array(rows.length * width);
  rows.forEach((row, i) => {
    gathered.set(features.subarray(row * width, (row + 1) * width), i * width);
  });
  return gathered;
}
