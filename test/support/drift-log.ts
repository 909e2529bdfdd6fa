import { createRandom } from '../../scripts/examples/prng.js';
import type { PredictionRecord } from '../../src/db/predictions.js';

export const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;
/** Means and standard deviations of iris's four features (the whole data set). */
export const FEATURE_NORMALS = [
  [5.843, 0.828],
  [3.057, 0.436],
  [3.758, 1.765],
  [1.199, 0.762],
] as const;

/** Standard normal draws by Box–Muller from the project's seeded generator. */
export function normalDraws(seed: number): () => number {
  const random = createRandom(seed);
  return () => {
    const u = 1 - random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

/**
 * `rows` served iris predictions of `version` from `from` (one per ms), each feature
 * drawn from its normal; `shift` moves one feature by that many of its standard deviations.
 * The label is a fixed function of the petal length, so the label mix follows the inputs.
 */
export function seededRows(options: {
  seed: number;
  rows: number;
  from: number;
  version: string;
  idPrefix: string;
  shift?: { feature: (typeof FEATURES)[number]; sd: number };
}): PredictionRecord[] {
  const draw = normalDraws(options.seed);
  const records: PredictionRecord[] = [];
  for (let i = 0; i < options.rows; i++) {
    const input: Record<string, number> = {};
    FEATURES.forEach((feature, f) => {
      const [mean, sd] = FEATURE_NORMALS[f] as readonly [number, number];
      const shift = options.shift?.feature === feature ? options.shift.sd * sd : 0;
      input[feature] = mean + shift + sd * draw();
    });
    const petal = input.petal_length as number;
    const label = petal < 2.5 ? 'setosa' : petal < 4.9 ? 'versicolor' : 'virginica';
    records.push({
      id: `${options.idPrefix}-${String(i).padStart(7, '0')}`,
      ts: options.from + i,
      model: 'iris',
      version: options.version,
      route: 'live',
      userHash: null,
      requestId: 'seeded',
      input: JSON.stringify(input),
      output: null,
      label,
      score: 0.9,
      latencyUs: 100,
      status: 'ok',
      error: null,
      shadowOf: null,
    });
  }
  return records;
}

/** The regressor's predicted value: normal, mean 300, sd 50 (a house price in thousands). */
export const PREDICTED_NORMAL = [300, 50] as const;

/**
 * `rows` served predictions of a regressor `price` (label null, the value in `score`, as
 * the gateway logs them) from `from`, one per ms: two unshifted normal features and a
 * predicted value drawn from PREDICTED_NORMAL, moved by `shiftSd` of its sd.
 */
export function seededRegressorRows(options: {
  seed: number;
  rows: number;
  from: number;
  version: string;
  idPrefix: string;
  shiftSd?: number;
}): PredictionRecord[] {
  const draw = normalDraws(options.seed);
  const [mean, sd] = PREDICTED_NORMAL;
  return Array.from({ length: options.rows }, (_, i) => {
    const value = mean + ((options.shiftSd ?? 0) + draw()) * sd;
    return {
      id: `${options.idPrefix}-${String(i).padStart(7, '0')}`,
      ts: options.from + i,
      model: 'price',
      version: options.version,
      route: 'live',
      userHash: null,
      requestId: 'seeded',
      input: JSON.stringify({ rooms: 3 + draw(), area: 80 + 20 * draw() }),
      output: JSON.stringify({ value }),
      label: null,
      score: value,
      latencyUs: 100,
      status: 'ok',
      error: null,
      shadowOf: null,
    };
  });
}
