import { z } from 'zod';
import { invalidInput } from '../errors.js';
import {
  allocate,
  type ElementType,
  type ElementValue,
  EXPECTED,
  store,
  type TensorValues,
  toElement,
  toJsonValue,
} from '../models/element-types.js';
import type { HostedVersion } from '../models/onnx-host.js';
import { validationMessage } from '../validation-message.js';
import { MAX_ROWS, type PredictRows } from './predict-input.js';

/**
 * The specification's $parameters: "name"/"value" pairs whose value is a string, a number
 * or a boolean (inference_rest.md, "Parameters").
 */
export const parametersSchema = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean()], {
    error: 'expected a string, number or boolean (parameters hold scalars only)',
  }),
);
export type Parameters = z.infer<typeof parametersSchema>;

/** Open Inference Protocol v2 request (KServe / Triton REST). */
const inferRequestSchema = z.object({
  id: z.string().max(256).optional(),
  parameters: parametersSchema.optional(),
  inputs: z
    .array(
      z.object({
        name: z.string(),
        shape: z.array(z.number().int().nonnegative()),
        datatype: z.string(),
        parameters: parametersSchema.optional(),
        // Absent when the tensor travels as binary data after the JSON (binary_data_size).
        data: z.array(z.unknown()).optional(),
      }),
    )
    .min(1),
  outputs: z
    .array(z.object({ name: z.string(), parameters: parametersSchema.optional() }))
    .optional(),
});

export type InferRequest = z.infer<typeof inferRequestSchema>;

/** One input tensor, whatever carried it: JSON data, binary data or gRPC contents. */
export interface OipInput {
  name: string;
  datatype: string;
  shape: number[];
  /** Row-major values; JSON may nest them by dimension. */
  data: readonly unknown[];
}

export function parseInferRequest(body: unknown): InferRequest {
  const parsed = inferRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidInput(validationMessage(parsed.error.issues));
  return parsed.data;
}

/** A string parameter a client may send for stickiness, e.g. parameters.userId. */
export function stringParameter(
  parameters: Parameters | undefined,
  name: string,
): string | undefined {
  const value = parameters?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Element types a tensor may arrive in for an input of each type (JSON numbers are JSON numbers). */
const ACCEPTED: Record<ElementType, readonly string[]> = {
  FP32: ['FP32', 'FP64'],
  FP64: ['FP64', 'FP32'],
  INT32: ['INT32', 'INT64'],
  INT64: ['INT64', 'INT32'],
  BOOL: ['BOOL'],
  BYTES: ['BYTES'],
};

/** One tensor per graph input, by name, in the input's element type (JSON `data`). */
export function toInferRows(tensors: readonly OipInput[], hosted: HostedVersion): PredictRows {
  const { inputs: bindings, slots } = hosted.contract;
  const names = bindings.map((b) => b.name);
  if (tensors.length !== bindings.length) {
    throw invalidInput(
      `inputs: expected ${bindings.length === 1 ? 'exactly one tensor' : `${bindings.length} tensors`} named ${names.map((n) => `"${n}"`).join(', ')}, got ${tensors.length}`,
    );
  }
  let rows: number | undefined;
  const inputs: TensorValues[] = [];
  const elements: ElementValue[][] = [];
  for (const binding of bindings) {
    const at = tensors.findIndex((t) => t.name === binding.name);
    const tensor = tensors[at];
    if (!tensor) {
      const stray = Math.max(
        0,
        tensors.findIndex((t) => !names.includes(t.name)),
      );
      throw invalidInput(
        `inputs[${stray}].name: expected "${binding.name}", got "${tensors[stray]?.name}"`,
      );
    }
    const field = `inputs[${at}]`;
    if (!ACCEPTED[binding.datatype].includes(tensor.datatype)) {
      throw invalidInput(
        `${field}.datatype: input "${binding.name}" expects ${binding.datatype}, got "${tensor.datatype}"`,
      );
    }
    const [n, columns = 1, ...rest] = tensor.shape;
    if (n === undefined || columns !== binding.columns || rest.length > 0) {
      const what = bindings.length === 1 ? ` (${hosted.features.join(', ')})` : '';
      throw invalidInput(
        `${field}.shape: expected [N, ${binding.columns}]${what}, got ${JSON.stringify(tensor.shape)}`,
      );
    }
    if (n < 1 || n > MAX_ROWS) {
      throw invalidInput(`${field}.shape[0]: expected 1 to ${MAX_ROWS} rows, got ${n}`);
    }
    if (rows !== undefined && n !== rows) {
      throw invalidInput(`${field}.shape[0]: ${n} rows, but an earlier input has ${rows}`);
    }
    rows = n;
    // The spec allows row-major flat data or nested arrays; accept both.
    const flat = tensor.data.flat(2);
    if (flat.length !== n * binding.columns) {
      throw invalidInput(
        `${field}.data: shape ${JSON.stringify(tensor.shape)} needs ${n * binding.columns} values, got ${flat.length}`,
      );
    }
    const values = allocate(binding.datatype, flat.length);
    const parsed = flat.map((value, i) => {
      const element = toElement(binding.datatype, value);
      if (element === undefined) {
        throw invalidInput(`${field}.data[${i}] (${binding.name}): ${EXPECTED[binding.datatype]}`);
      }
      store(values, i, element);
      // Logged as the model saw it: an FP32 input holds the value rounded to float32.
      return binding.datatype === 'FP32' ? Math.fround(element as number) : element;
    });
    inputs.push(values);
    elements.push(parsed);
  }
  const count = rows as number;
  const inputsJson: string[] = [];
  for (let row = 0; row < count; row++) {
    const named: Record<string, unknown> = {};
    for (const slot of slots) {
      const width = (bindings[slot.input] as { columns: number }).columns;
      const element = elements[slot.input]?.[row * width + slot.column] as ElementValue;
      named[slot.feature] = toJsonValue(element);
    }
    inputsJson.push(JSON.stringify(named));
  }
  return { inputs, rows: count, inputsJson };
}
