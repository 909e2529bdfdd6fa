/**
 * Typed reads of the gateway's JSON answers: each checks the body against the shape the
 * README documents (a test fails with zod's message when it drifts) and gives it a type,
 * so field access in tests is checked instead of `any`.
 */
import { z } from 'zod';

const deployment = z.object({
  model: z.string(),
  live: z.string(),
  standby: z.string().nullable(),
  history: z.array(z.string()),
  split: z.record(z.string(), z.number()).nullable(),
  source: z.enum(['local', 'unleash']),
  pinned: z.boolean(),
  shadow: z.object({ version: z.string(), percent: z.number() }).nullable(),
  hosted: z.record(z.string(), z.string()),
  revision: z.number(),
});

const controlView = z.object({
  deployment,
  loaded: z.array(z.string()),
  events: z.array(
    z.looseObject({
      id: z.number(),
      action: z.string(),
      from: z.string().nullable(),
      to: z.string().nullable(),
      actor: z.string(),
      reason: z.string().nullable(),
    }),
  ),
});

const prediction = z.looseObject({
  model: z.string(),
  version: z.string(),
  route: z.string(),
  predictionId: z.string().optional(),
  outputs: z.array(
    z.union([
      z.object({
        label: z.string(),
        score: z.number().optional(),
        probabilities: z.record(z.string(), z.number()),
      }),
      z.object({ value: z.number() }),
    ]),
  ),
});

const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const readiness = z.looseObject({
  ready: z.boolean(),
  notReady: z.array(z.unknown()).optional(),
  behind: z
    .array(z.object({ model: z.string(), revision: z.number(), reason: z.string() }))
    .optional(),
});

const read =
  <T extends z.ZodType>(schema: T) =>
  async (res: Response): Promise<z.infer<T>> =>
    schema.parse(await res.json());

/** `GET /control/:model` and the answer of every control change. */
export const readControlView = read(controlView);
/** `POST /predict/:model` answered 200. */
export const readPrediction = read(prediction);
/** Any 4xx/5xx: `{"error": {code, message}}`. */
export const readError = read(errorBody);
/** `GET /v2/health/ready`, 200 or 503. */
export const readReadiness = read(readiness);
