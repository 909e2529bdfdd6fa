import { z } from 'zod';
import { invalidInput } from '../errors.js';
import type { HostedVersion } from '../models/onnx-host.js';
import { validationMessage } from '../validation-message.js';
import { FP32_RANGE_MESSAGE, isFp32Finite, MAX_ROWS, type PredictRows } from './predict-input.js';

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

export function toInferRows(inputs: readonly OipInput[], hosted: HostedVersion): PredictRows {
  const width = hosted.features.length;
  const [tensor, extra] = inputs;
  if (!tensor || extra) {
    throw invalidInput(`inputs: expected exactly one tensor named "${hosted.input.name}"`);
  }
  if (tensor.name !== hosted.input.name) {
    throw invalidInput(`inputs[0].name: expected "${hosted.input.name}", got "${tensor.name}"`);
  }
  if (tensor.datatype !== 'FP32' && tensor.datatype !== 'FP64') {
    throw invalidInput(`inputs[0].datatype: expected FP32, got "${tensor.datatype}"`);
  }
  const [rows, columns, ...rest] = tensor.shape;
  if (rows === undefined || columns !== width || rest.length > 0) {
    throw invalidInput(
      `inputs[0].shape: expected [N, ${width}] (${hosted.features.join(', ')}), got ${JSON.stringify(tensor.shape)}`,
    );
  }
  if (rows < 1 || rows > MAX_ROWS) {
    throw invalidInput(`inputs[0].shape[0]: expected 1 to ${MAX_ROWS} rows, got ${rows}`);
  }
  // The spec allows row-major flat data or nested arrays; accept both.
  const flat = tensor.data.flat(2);
  if (flat.length !== rows * width) {
    throw invalidInput(
      `inputs[0].data: shape ${JSON.stringify(tensor.shape)} needs ${rows * width} values, got ${flat.length}`,
    );
  }
  const features = new Float32Array(flat.length);
  flat.forEach((value, i) => {
    if (typeof value !== 'number' || !isFp32Finite(value)) {
      throw invalidInput(`inputs[0].data[${i}]: ${FP32_RANGE_MESSAGE}`);
    }
    features[i] = value;
  });
  const inputsJson: string[] = [];
  for (let row = 0; row < rows; row++) {
    const named: Record<string, number> = {};
    hosted.features.forEach((feature, j) => {
      named[feature] = features[row * width + j] as number;
    });
    inputsJson.push(JSON.stringify(named));
  }
  return { features, rows, inputsJson };
}
