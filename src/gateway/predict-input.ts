import { z } from 'zod';
import { invalidInput } from '../errors.js';
import { validationMessage } from '../validation-message.js';

export const MAX_ROWS = 1000;

/** The largest finite FP32: anything larger in magnitude becomes ±Infinity inside the model. */
export const FP32_MAX = 3.4028234663852886e38;
export const FP32_RANGE_MESSAGE = `expected a finite number within FP32 range (|x| ≤ ${FP32_MAX})`;

/** Whether a JSON number survives the cast to the model's FP32 input unchanged in kind. */
export const isFp32Finite = (value: number): boolean =>
  Number.isFinite(value) && Math.abs(value) <= FP32_MAX;

const featureValue = z
  .number({ error: 'expected a number' })
  .refine(isFp32Finite, FP32_RANGE_MESSAGE);
const stickyField = z.string().min(1).max(256).optional();

/** The /predict envelope; rows are checked later against the routed version's features. */
const predictBodySchema = z.union([
  z.object({
    inputs: z.union([
      z.record(z.string(), z.unknown()),
      z.array(z.array(z.unknown())).min(1).max(MAX_ROWS, `at most ${MAX_ROWS} rows`),
    ]),
    userId: stickyField,
    sessionId: stickyField,
  }),
  z.object({
    instances: z
      .array(z.record(z.string(), z.unknown()))
      .min(1, 'at least one instance')
      .max(MAX_ROWS, `at most ${MAX_ROWS} rows`),
    userId: stickyField,
    sessionId: stickyField,
  }),
]);

export type PredictBody = z.infer<typeof predictBodySchema>;

/** Rows ready for the model plus their JSON for the log. */
export interface PredictRows {
  features: Float32Array;
  rows: number;
  inputsJson: string[];
}

export function parsePredictBody(body: unknown): PredictBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidInput('body: expected a JSON object with "inputs" or "instances"');
  }
  if (!('inputs' in body) && !('instances' in body)) {
    throw invalidInput('body: expected "inputs" or "instances"');
  }
  const parsed = predictBodySchema.safeParse(body);
  if (!parsed.success) {
    // A union reports its branches' issues together; report the branch the body chose.
    const branch = 'instances' in body ? 'instances' : 'inputs';
    const chosen = parsed.error.issues
      .flatMap((i) => (i.code === 'invalid_union' ? i.errors.flat() : [i]))
      .find((i) => i.path[0] === branch || i.path[0] === 'userId' || i.path[0] === 'sessionId');
    throw invalidInput(validationMessage(chosen ? [chosen] : parsed.error.issues));
  }
  return parsed.data;
}

/** Checks every row against `features` and packs them row-major for ONNX Runtime. */
export function toFeatureRows(body: PredictBody, features: readonly string[]): PredictRows {
  const width = features.length;
  if ('instances' in body) {
    return packObjects(body.instances, features, (i) => `instances[${i}]`);
  }
  if (!Array.isArray(body.inputs)) {
    return packObjects([body.inputs], features, () => 'inputs');
  }
  const rows = body.inputs;
  const packed = new Float32Array(rows.length * width);
  const inputsJson: string[] = [];
  rows.forEach((row, i) => {
    if (row.length !== width) {
      throw invalidInput(
        `inputs[${i}]: expected ${width} numbers (${features.join(', ')}), got ${row.length}`,
      );
    }
    const named: Record<string, number> = {};
    row.forEach((value, j) => {
      const feature = features[j] as string;
      const parsed = featureValue.safeParse(value);
      if (!parsed.success)
        throw invalidInput(validationMessage(parsed.error.issues, `inputs[${i}][${j}]`));
      packed[i * width + j] = parsed.data;
      named[feature] = parsed.data;
    });
    inputsJson.push(JSON.stringify(named));
  });
  return { features: packed, rows: rows.length, inputsJson };
}

/** Checks and packs rows given by feature name; `label(i)` names row i in error messages. */
export function packObjects(
  rows: ReadonlyArray<Record<string, unknown>>,
  features: readonly string[],
  label: (i: number) => string,
): PredictRows {
  const width = features.length;
  const expected = new Set(features);
  const packed = new Float32Array(rows.length * width);
  const inputsJson: string[] = [];
  rows.forEach((row, i) => {
    for (const key of Object.keys(row)) {
      if (!expected.has(key)) {
        throw invalidInput(`${label(i)}.${key}: unknown feature (expected ${features.join(', ')})`);
      }
    }
    const named: Record<string, number> = {};
    features.forEach((feature, j) => {
      if (!(feature in row)) throw invalidInput(`${label(i)}.${feature}: missing feature`);
      const parsed = featureValue.safeParse(row[feature]);
      if (!parsed.success) {
        throw invalidInput(validationMessage(parsed.error.issues, `${label(i)}.${feature}`));
      }
      packed[i * width + j] = parsed.data;
      named[feature] = parsed.data;
    });
    inputsJson.push(JSON.stringify(named));
  });
  return { features: packed, rows: rows.length, inputsJson };
}
