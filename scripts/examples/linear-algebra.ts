/** Row-major dense matrices as plain arrays: the models are tiny, clarity beats speed. */
export type Vector = number[];
export type Matrix = number[][];

/** Indexed read that fails loudly instead of letting `undefined` turn into NaN. */
export function at<T>(values: ArrayLike<T>, index: number): T {
  const value = values[index];
  if (value === undefined) throw new RangeError(`index ${index} out of range ${values.length}`);
  return value;
}

export function zeros(rows: number, cols: number): Matrix {
  return Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
}

export function transpose(m: Matrix): Matrix {
  const cols = at(m, 0).length;
  return Array.from({ length: cols }, (_, c) => m.map((row) => at(row, c)));
}

/** a [n×k] · b [k×m] → [n×m] */
export function matMul(a: Matrix, b: Matrix): Matrix {
  const cols = at(b, 0).length;
  return a.map((row) => {
    const out = new Array<number>(cols).fill(0);
    row.forEach((x, k) => {
      const bRow = at(b, k);
      for (let c = 0; c < cols; c++) out[c] = at(out, c) + x * at(bRow, c);
    });
    return out;
  });
}

export function addRowVector(m: Matrix, v: Vector): Matrix {
  return m.map((row) => row.map((x, c) => x + at(v, c)));
}

export function columnSums(m: Matrix): Vector {
  const sums = new Array<number>(at(m, 0).length).fill(0);
  for (const row of m) {
    for (let c = 0; c < sums.length; c++) sums[c] = at(sums, c) + at(row, c);
  }
  return sums;
}

export function argmax(values: readonly number[]): number {
  let best = 0;
  values.forEach((x, i) => {
    if (x > at(values, best)) best = i;
  });
  return best;
}

/** Subtracts the max first so large logits cannot overflow exp. */
export function softmax(logits: readonly number[]): Vector {
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const total = exps.reduce((sum, e) => sum + e, 0);
  return exps.map((e) => e / total);
}
