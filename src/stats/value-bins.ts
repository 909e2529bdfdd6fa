/**
 * A numeric feature streamed through drift detection is kept as counts per value bin,
 * never as its values: memory grows with the number of distinct bins, not with rows.
 *
 * A bin is the value as FP32 (what the model sees) with its mantissa cut to 10 bits:
 * every bin spans at most 2⁻¹⁰ (0.1 %) of its magnitude, so quantiles and the KS statistic read
 * from bins are within 0.1 % of the exact values, and whole numbers up to 2,048 (codes,
 * counts, flags) keep a bin each. Bin keys sort as their values do.
 */
const MANTISSA_BITS_DROPPED = 13;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function binOf(value: number): number {
  f32[0] = value === 0 ? 0 : value; // −0 and +0 share a bin
  const bits = u32[0] as number;
  const magnitude = (bits & 0x7fffffff) >>> MANTISSA_BITS_DROPPED;
  // Negative values: the larger the magnitude, the smaller the key.
  return bits >>> 31 === 1 ? -magnitude - 1 : magnitude;
}

/** The bin's end nearest to zero: the value a bin stands for when a quantile is reported. */
export function valueOfBin(key: number): number {
  const negative = key < 0;
  u32[0] = ((negative ? -key - 1 : key) << MANTISSA_BITS_DROPPED) >>> 0;
  const magnitude = f32[0] as number;
  return negative ? -magnitude : magnitude;
}

/** Counts per bin key. */
export type Histogram = Map<number, number>;

export function addToHistogram(histogram: Histogram, value: number): void {
  const key = binOf(value);
  histogram.set(key, (histogram.get(key) ?? 0) + 1);
}

export function histogramTotal(histogram: Histogram): number {
  let total = 0;
  for (const n of histogram.values()) total += n;
  return total;
}
