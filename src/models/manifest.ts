import { z } from 'zod';

export const TRANSFORMS = ['none', 'softmax', 'sigmoid'] as const;
export type OutputTransform = (typeof TRANSFORMS)[number];
export const TASKS = ['classification', 'regression'] as const;
export type Task = (typeof TASKS)[number];

/**
 * model.json beside a model.onnx: optional. The graph is the contract (inputs, outputs,
 * element types, shapes, ZipMap labels); model.json only adds or overrides what the
 * graph cannot say.
 */
export const modelManifestSchema = z.looseObject({
  /** The earlier, required form: one FP32 input with its feature names. Still read. */
  inputs: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        features: z.array(z.string().min(1)).min(1).optional(),
      }),
    )
    .optional(),
  /** Names of the input's columns in order, or feature → input name for one-column inputs. */
  features: z
    .union([z.array(z.string().min(1)).min(1), z.record(z.string().min(1), z.string().min(1))])
    .optional(),
  labels: z.array(z.string().min(1)).min(2).optional(),
  task: z.enum(TASKS).optional(),
  /** Which output to read and how: `{"name": "logits", "transform": "softmax"}`. */
  output: z
    .object({
      name: z.string().min(1),
      transform: z.enum(TRANSFORMS).optional(),
      /** An INT64/STRING output holding each row's label; it wins over argmax. */
      label: z.string().min(1).optional(),
    })
    .optional(),
  description: z.string().optional(),
  algorithm: z.string().optional(),
  trainedOn: z.string().optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  /** Training statistics per feature, the baseline of `/compare?baseline=training`. */
  featureStats: z
    .record(
      z.string(),
      z.object({
        n: z.number().int().positive(),
        quantiles: z
          .array(z.number())
          .min(11)
          .refine((q) => (q.length - 1) % 10 === 0, {
            message: 'expected 11, 21, … 101 quantiles (0 to 1 in equal steps, deciles included)',
          })
          .refine((q) => q.every((x, i) => i === 0 || x >= (q[i - 1] as number)), {
            message: 'expected quantiles in ascending order',
          }),
      }),
    )
    .optional(),
});

export type ModelManifest = z.infer<typeof modelManifestSchema>;
