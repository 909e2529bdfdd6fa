import { z } from 'zod';

/** model.json beside each model.onnx: what the gateway validates requests against. */
export const modelManifestSchema = z.looseObject({
  inputs: z
    .array(
      z.object({
        name: z.string().min(1),
        datatype: z.literal('FP32'),
        shape: z.array(z.number().int()).length(2),
        features: z.array(z.string().min(1)).min(1),
      }),
    )
    .length(1, 'exactly one input tensor is supported'),
  labels: z.array(z.string().min(1)).min(2),
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
