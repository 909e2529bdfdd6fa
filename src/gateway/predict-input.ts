import { z } from 'zod';
import { invalidInput } from '../errors.js';
import type { Contract, FeatureSlot } from '../models/contract.js';
import {
  allocate,
  EXPECTED,
  store,
  type TensorValues,
  toElement,
  toJsonValue,
} from '../models/element-types.js';
import { validationMessage } from '../validation-message.js';

export const MAX_ROWS = 1000;

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

/** Rows ready for the model (one value array per graph input) plus their JSON for the log. */
export interface PredictRows {
  inputs: TensorValues[];
  rows: number;
  inputsJson: string[];
}

/** Where each feature goes in the graph's inputs: what a version's contract says. */
export type FeatureLayout = Pick<Contract, 'inputs' | 'slots' | 'features'>;

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

/**
 * Packs rows into the graph's inputs: `value(row, slot)` gives a feature's JSON value
 * (undefined when missing) and `where(row, slot)` names it in a 400.
 */
function pack(
  rows: number,
  layout: FeatureLayout,
  value: (row: number, slot: FeatureSlot, j: number) => unknown,
  where: (row: number, slot: FeatureSlot, j: number) => string,
): PredictRows {
  const inputs = layout.inputs.map((binding) => allocate(binding.datatype, rows * binding.columns));
  const widths = layout.inputs.map((binding) => binding.columns);
  const inputsJson: string[] = [];
  for (let row = 0; row < rows; row++) {
    const named: Record<string, unknown> = {};
    layout.slots.forEach((slot, j) => {
      const raw = value(row, slot, j);
      if (raw === undefined) throw invalidInput(`${where(row, slot, j)}: missing feature`);
      const element = toElement(slot.datatype, raw);
      if (element === undefined) {
        throw invalidInput(`${where(row, slot, j)}: ${EXPECTED[slot.datatype]}`);
      }
      const target = inputs[slot.input] as TensorValues;
      const index = row * (widths[slot.input] as number) + slot.column;
      // The bundled models' one FP32 input: a direct write, nothing else on their hot path.
      if (target instanceof Float32Array) target[index] = element as number;
      else store(target, index, element);
      named[slot.feature] = toJsonValue(element);
    });
    inputsJson.push(JSON.stringify(named));
  }
  return { inputs, rows, inputsJson };
}

/** Checks every row against the version's features and packs them for ONNX Runtime. */
export function toFeatureRows(body: PredictBody, layout: FeatureLayout): PredictRows {
  const { features } = layout;
  if ('instances' in body) {
    return packObjects(body.instances, layout, (i) => `instances[${i}]`);
  }
  if (!Array.isArray(body.inputs)) {
    return packObjects([body.inputs], layout, () => 'inputs');
  }
  const rows = body.inputs;
  rows.forEach((row, i) => {
    if (row.length !== features.length) {
      throw invalidInput(
        `inputs[${i}]: expected ${features.length} values (${features.join(', ')}), got ${row.length}`,
      );
    }
  });
  return pack(
    rows.length,
    layout,
    (i, _slot, j) => rows[i]?.[j],
    (i, slot, j) => `inputs[${i}][${j}] (${slot.feature})`,
  );
}

/** Checks and packs rows given by feature name; `label(i)` names row i in error messages. */
export function packObjects(
  rows: ReadonlyArray<Record<string, unknown>>,
  layout: FeatureLayout,
  label: (i: number) => string,
): PredictRows {
  const { features } = layout;
  const expected = new Set(features);
  rows.forEach((row, i) => {
    for (const key of Object.keys(row)) {
      if (!expected.has(key)) {
        throw invalidInput(`${label(i)}.${key}: unknown feature (expected ${features.join(', ')})`);
      }
    }
  });
  return pack(
    rows.length,
    layout,
    (i, slot) => (rows[i] as Record<string, unknown>)[slot.feature],
    (i, slot) => `${label(i)}.${slot.feature}`,
  );
}
