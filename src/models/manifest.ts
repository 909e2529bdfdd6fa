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
});

export type ModelManifest = z.infer<typeof modelManifestSchema>;
