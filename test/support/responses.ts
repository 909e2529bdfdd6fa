/**
 * Typed reads of the gateway's JSON answers: each checks the body against the shape the
 * README documents (a test fails with zod's message when a field is renamed or dropped)
 * and gives it a type, so field access in tests is checked. Objects are loose: fields a
 * schema does not name pass through untouched, so `toEqual` on a parsed body still sees
 * everything the gateway sent.
 */
import { z } from 'zod';
import type { DriftReport } from '../../src/compare/drift-report.js';
import type { CompareReport } from '../../src/compare/report.js';
import type { ModelControlView } from '../../src/control/service.js';
import type { TrafficSeries } from '../../src/dashboard/traffic.js';
import type { ModelMetadata, ServerReadiness } from '../../src/gateway/oip-service.js';

const interval = z.looseObject({ low: z.number(), high: z.number() });
const estimate = z.looseObject({ estimate: z.number(), low: z.number(), high: z.number() });
const differenceTest = z.looseObject({
  low: z.number(),
  high: z.number(),
  pValue: z.number().nullable(),
  significant: z.boolean(),
});
const sequentialDifference = z.looseObject({
  low: z.number(),
  high: z.number(),
  pValue: z.number(),
  significant: z.boolean(),
});
const weights = z.record(z.string(), z.number());

// --- /control ---------------------------------------------------------------------------

const deployment = z.looseObject({
  model: z.string(),
  live: z.string(),
  standby: z.string().nullable(),
  history: z.array(z.string()),
  split: weights.nullable(),
  source: z.enum(['local', 'unleash']),
  pinned: z.boolean(),
  shadow: z.looseObject({ version: z.string(), percent: z.number() }).nullable(),
  hosted: z.record(z.string(), z.string()),
  revision: z.number(),
});

const deploymentEvent = z.looseObject({
  id: z.number(),
  model: z.string(),
  action: z.enum([
    'init',
    'promote',
    'rollback',
    'flip',
    'split',
    'source',
    'shadow',
    'unpin',
    'load',
    'reload',
    'unload',
    'rollout_start',
    'rollout_step',
    'rollout_abort',
    'rollout_guard_tripped',
    'rollout_complete',
  ]),
  from: z.string().nullable(),
  to: z.string().nullable(),
  actor: z.string(),
  reason: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable().optional(),
  ts: z.number(),
});

/** One guard's verdict at an evaluation, as the rollout and its audit events carry it. */
const guardReading = z.looseObject({
  guard: z.string(),
  status: z.enum(['pass', 'fail', 'wait']),
  live: z.number().nullable(),
  candidate: z.number().nullable(),
  // An unbounded side (no data yet) is ±Infinity, which JSON writes as null.
  interval: z.looseObject({ lower: z.number().nullable(), upper: z.number().nullable() }),
  limit: z.number(),
  alpha: z.number(),
  samples: z.looseObject({ live: z.number(), candidate: z.number() }),
  detail: z.string(),
});

const rollout = z.looseObject({
  model: z.string(),
  candidate: z.string(),
  baseline: z.string(),
  steps: z.array(z.number()),
  stepIndex: z.number(),
  intervalMs: z.number(),
  guards: z.record(z.string(), z.unknown()),
  status: z.enum(['running', 'completed', 'rolled_back', 'aborted']),
  stepStartedAt: z.number(),
  nextEvaluationAt: z.number().nullable(),
  /** The last evaluation's guard readings. */
  readings: z.array(guardReading),
  startedAt: z.number(),
  finishedAt: z.number().nullable(),
  outcome: z.string().nullable(),
});

const controlView = z.looseObject({
  deployment,
  loaded: z.array(z.string()),
  events: z.array(deploymentEvent),
  rollout: rollout.nullable(),
});

// --- POST /predict, POST /feedback ------------------------------------------------------

const predictionHead = {
  model: z.string(),
  version: z.string(),
  route: z.string(),
  predictionId: z.string(),
  /** Only for a batch of more than one row. */
  predictionIds: z.array(z.string()).optional(),
  labelFrom: z.string().optional(),
};
const classOutput = z.looseObject({
  label: z.string(),
  probabilities: z.record(z.string(), z.number()),
});
const classPrediction = z.looseObject({ ...predictionHead, outputs: z.array(classOutput) });
const valuePrediction = z.looseObject({
  ...predictionHead,
  outputs: z.array(z.looseObject({ value: z.number() })),
});

const feedbackAnswer = z.looseObject({
  predictionId: z.string(),
  model: z.string(),
  version: z.string(),
  label: z.string().optional(),
  value: z.number().optional(),
});

// --- /models ------------------------------------------------------------------------------

const tensorSpec = z.looseObject({
  name: z.string(),
  datatype: z.string(),
  shape: z.array(z.number()),
});
const failedVersion = z.looseObject({
  version: z.string(),
  reason: z.string(),
  /** The graph's own inputs and outputs, when it could be read. */
  graph: z.looseObject({ inputs: z.array(tensorSpec), outputs: z.array(tensorSpec) }).optional(),
});
const modelsList = z.looseObject({
  flags: z.looseObject({
    mode: z.string(),
    synchronized: z.boolean(),
    lastError: z.string().nullable(),
  }),
  failed: z.array(failedVersion.extend({ model: z.string() })),
  models: z.array(
    z.looseObject({
      name: z.string(),
      versions: z.array(
        z.looseObject({
          version: z.string(),
          description: z.string().nullable(),
          task: z.enum(['classification', 'regression']).nullable(),
          inputs: z.array(tensorSpec),
          features: z.array(z.string()),
          labels: z.array(z.string()),
          contract: z.array(z.string()),
          metrics: z.record(z.string(), z.unknown()),
          inference: z
            .looseObject({
              placement: z.enum(['inline', 'worker']),
              singleRowUs: z.number(),
              /** Only on a worker thread. */
              worker: z
                .looseObject({
                  running: z.boolean(),
                  restarts: z.number(),
                  callsInFlight: z.number(),
                  lastStop: z
                    .looseObject({ at: z.string(), reason: z.string(), callsFailed: z.number() })
                    .nullable(),
                })
                .optional(),
            })
            .nullable(),
        }),
      ),
      live: z.string().nullable(),
      standby: z.string().nullable(),
      pinned: z.boolean(),
      split: weights.nullable(),
      splitSource: z.enum(['local', 'unleash']),
      flag: z.string(),
      shadow: z.looseObject({ version: z.string(), percent: z.number() }).nullable(),
      failed: z.array(failedVersion),
    }),
  ),
});

// --- Open Inference Protocol (/v2) ----------------------------------------------------------

const readiness = z.looseObject({
  ready: z.boolean(),
  degraded: z.boolean(),
  notReady: z
    .array(z.looseObject({ model: z.string(), version: z.string(), reason: z.string() }))
    .optional(),
  behind: z
    .array(z.looseObject({ model: z.string(), revision: z.number(), reason: z.string() }))
    .optional(),
  storage: z.looseObject({
    ok: z.boolean(),
    detail: z.string().optional(),
    pendingRows: z.number(),
    accepting: z.boolean(),
    kind: z.enum(['sqlite', 'postgres']),
    leads: z.boolean(),
  }),
  listeners: z.looseObject({
    http: z.literal('listening'),
    grpc: z.enum(['off', 'starting', 'listening', 'stopped']),
  }),
});

const serverMetadata = z.looseObject({
  name: z.string(),
  version: z.string(),
  extensions: z.array(z.string()),
});

const modelMetadata = z.looseObject({
  name: z.string(),
  versions: z.array(z.string()),
  platform: z.string(),
  inputs: z.array(tensorSpec),
  outputs: z.array(tensorSpec),
  parameters: z.looseObject({ task: z.string(), features: z.string(), labels: z.string() }),
});

const oipOutput = z.looseObject({
  name: z.string(),
  datatype: z.string(),
  shape: z.array(z.number()),
  /** Absent when the output went back as binary data. */
  data: z.array(z.union([z.number(), z.string()])).optional(),
  parameters: z.looseObject({ binary_data_size: z.number().optional() }).optional(),
});
const inferAnswer = z.looseObject({
  model_name: z.string(),
  model_version: z.string(),
  id: z.string().optional(),
  parameters: z.looseObject({ route: z.string(), prediction_ids: z.string() }),
  outputs: z.array(oipOutput),
});

// --- /compare -------------------------------------------------------------------------------

const versionReport = z.looseObject({
  version: z.string(),
  requests: z.number(),
  share: z.number(),
  errors: z.number(),
  errorRate: z.number(),
  latencyMs: z.looseObject({
    p50: z.number().nullable(),
    p95: z.number().nullable(),
    p99: z.number().nullable(),
  }),
  labels: z.record(z.string(), z.number()),
  accuracy: estimate
    .extend({ n: z.number(), correct: z.number(), sequential: interval })
    .nullable(),
  value: z
    .looseObject({
      n: z.number(),
      mean: z.number(),
      variance: z.number(),
      fixedHorizon: interval.nullable(),
      sequential: interval.nullable(),
    })
    .nullable(),
  task: z.enum(['classification', 'regression']),
  predicted: z
    .looseObject({
      n: z.number(),
      mean: z.number(),
      p5: z.number(),
      p50: z.number(),
      p95: z.number(),
    })
    .nullable(),
  error: z
    .looseObject({
      n: z.number(),
      mae: z.number(),
      rmse: z.number(),
      maeInterval: interval.nullable(),
      rmseInterval: interval.nullable(),
      sequential: z.looseObject({ mae: interval.nullable(), rmse: interval.nullable() }),
    })
    .nullable(),
});

const sampleRatio = z.looseObject({
  expected: weights,
  observed: z.record(z.string(), z.number()),
  since: z.number(),
  test: z
    .looseObject({
      chiSquare: z.number(),
      degreesOfFreedom: z.number(),
      pValue: z.number(),
      threshold: z.number(),
      mismatch: z.boolean(),
      unexpected: z.array(z.string()),
    })
    .nullable(),
  sequential: z
    .looseObject({
      logBayesFactor: z.number(),
      pValue: z.number(),
      alpha: z.number(),
      mismatch: z.boolean(),
      unexpected: z.array(z.string()),
    })
    .nullable(),
});

const shadowAgreement = z.looseObject({
  served: z.string(),
  shadow: z.string(),
  pairs: z.number(),
  agreement: estimate.nullable(),
  sequential: interval.nullable(),
  paired: z
    .looseObject({
      n: z.number(),
      servedAccuracy: z.number(),
      shadowAccuracy: z.number(),
      servedOnly: z.number(),
      shadowOnly: z.number(),
      difference: estimate,
      pValue: z.number(),
      significant: z.boolean(),
    })
    .nullable(),
  pairedError: z
    .looseObject({
      n: z.number(),
      differing: z.looseObject({ mae: z.number(), mse: z.number() }),
      servedMae: z.number(),
      shadowMae: z.number(),
      servedRmse: z.number(),
      shadowRmse: z.number(),
      maeDifference: z.number(),
      mseDifference: z.number(),
      maeDifferenceInterval: interval.nullable(),
      mseDifferenceInterval: interval.nullable(),
      sequential: z.looseObject({
        maeDifference: interval.nullable(),
        mseDifference: interval.nullable(),
      }),
    })
    .nullable(),
});

const featureDrift = z.looseObject({
  feature: z.string(),
  rows: z.number(),
  baselineRows: z.number(),
  psi: z.number(),
  deciles: z.array(z.number()),
  ks: z.looseObject({ statistic: z.number(), pValue: z.number() }),
  flagged: z.boolean(),
});

const driftReport = z.looseObject({
  baseline: z.discriminatedUnion('kind', [
    z.looseObject({
      kind: z.literal('window'),
      since: z.number(),
      until: z.number(),
      rows: z.number().nullable(),
    }),
    z.looseObject({ kind: z.literal('training'), rows: z.number().nullable() }),
  ]),
  psiThreshold: z.number(),
  versions: z.array(
    z.looseObject({
      version: z.string(),
      rows: z.number(),
      features: z.array(featureDrift),
      prediction: z
        .discriminatedUnion('kind', [
          // A classifier's label mix.
          z.looseObject({
            kind: z.literal('label'),
            rows: z.number(),
            baselineRows: z.number(),
            psi: z.number(),
            chiSquare: z
              .looseObject({
                statistic: z.number(),
                degreesOfFreedom: z.number(),
                pValue: z.number(),
              })
              .nullable(),
            flagged: z.boolean(),
          }),
          // A regressor's predicted value, as a numeric feature.
          z.looseObject({
            kind: z.literal('value'),
            rows: z.number(),
            baselineRows: z.number(),
            psi: z.number(),
            deciles: z.array(z.number()),
            ks: z.looseObject({ statistic: z.number(), pValue: z.number() }),
            flagged: z.boolean(),
          }),
        ])
        .nullable(),
      flagged: z.array(z.string()),
      note: z.string().nullable(),
    }),
  ),
});

const compareReport = z.looseObject({
  model: z.string(),
  window: z.looseObject({ since: z.number().nullable(), until: z.number() }),
  versions: z.array(versionReport),
  accuracy: z.array(
    z.looseObject({
      baseline: z.string(),
      candidate: z.string(),
      difference: z.number(),
      fixedHorizon: differenceTest.extend({ z: z.number().nullable() }),
      sequential: sequentialDifference,
    }),
  ),
  value: z.array(
    z.looseObject({
      baseline: z.string(),
      candidate: z.string(),
      difference: z.number(),
      fixedHorizon: differenceTest.extend({ z: z.number(), pValue: z.number() }).nullable(),
      sequential: sequentialDifference.nullable(),
    }),
  ),
  sampleRatio: sampleRatio.nullable(),
  sampleRatioNote: z.string().nullable(),
  shadow: z.array(shadowAgreement),
  /** Only when the window reaches past MODELGATE_LOG_RETENTION. */
  retention: z
    .looseObject({ retentionMs: z.number(), keptSince: z.number(), message: z.string() })
    .optional(),
  /** Only with `?drift=`. */
  drift: driftReport.optional(),
});

// --- /dashboard/api ----------------------------------------------------------------------------

const traffic = z.looseObject({
  model: z.string(),
  bucketMs: z.number(),
  buckets: z.array(z.number()),
  versions: z.array(z.looseObject({ version: z.string(), counts: z.array(z.number()) })),
});

// --- CLI output: npm run score, npm run export -------------------------------------------

const scoreLine = z.looseObject({
  /** The input line it answers (1-based). */
  line: z.number(),
  predictionId: z.string(),
  version: z.string(),
  label: z.string().optional(),
  score: z.number().optional(),
  probabilities: z.record(z.string(), z.number()).optional(),
  value: z.number().optional(),
});
const scoreError = z.looseObject({
  line: z.number(),
  error: z.string(),
  input: z.unknown().optional(),
  text: z.string().optional(),
});
const exportLine = z.looseObject({
  id: z.string(),
  time: z.string(),
  ts: z.number(),
  model: z.string(),
  version: z.string(),
  route: z.string(),
  userHash: z.string().nullable(),
  requestId: z.string().nullable(),
  input: z.record(z.string(), z.unknown()),
  output: z.unknown(),
  label: z.string().nullable(),
  score: z.number().nullable(),
  latencyUs: z.number(),
  status: z.string(),
  error: z.string().nullable(),
  shadowOf: z.string().nullable(),
  cached: z.boolean(),
  feedback: z
    .looseObject({ label: z.string().nullable(), value: z.number().nullable(), ts: z.number() })
    .nullable(),
});

// --- errors -----------------------------------------------------------------------------------

const errorBody = z.looseObject({
  error: z.looseObject({ code: z.string(), message: z.string() }),
});
/** Under /v2 the protocol fixes the body as `{"error": "<message>"}`; the code rides beside it. */
const oipErrorBody = z.looseObject({ error: z.string(), code: z.string() });

/**
 * The schemas above are written from the README; these lines make the compiler hold them
 * to the source's own types as well, so a field renamed in src/ fails `npm run typecheck`
 * here, not only the test that happens to read it.
 */
type Fits<Schema extends z.ZodType, Source> = (parsed: z.infer<Schema>) => Source;
export const schemasFitSource: [
  Fits<typeof compareReport, CompareReport>,
  Fits<typeof driftReport, DriftReport>,
  Fits<typeof modelMetadata, ModelMetadata>,
  Fits<typeof readiness, ServerReadiness>,
  Fits<typeof controlView, ModelControlView>,
  Fits<typeof traffic, TrafficSeries>,
] = [(r) => r, (r) => r, (r) => r, (r) => r, (r) => r, (r) => r];

// --- readers ----------------------------------------------------------------------------------

/** Parses `body` (already read, e.g. a CLI's stdout or a binary response's JSON part). */
export const parseAs = <T extends z.ZodType>(schema: T, body: unknown): z.infer<T> =>
  schema.parse(body);

const read =
  <T extends z.ZodType>(schema: T) =>
  async (res: Response): Promise<z.infer<T>> =>
    schema.parse(await res.json());

export const schemas = {
  controlView,
  classPrediction,
  valuePrediction,
  feedbackAnswer,
  modelsList,
  readiness,
  serverMetadata,
  modelMetadata,
  inferAnswer,
  compareReport,
  driftReport,
  errorBody,
  oipErrorBody,
  scoreLine,
  scoreError,
  exportLine,
  /** deployment_events.detail of a `rollout_guard_tripped` event. */
  trippedDetail: z.looseObject({ tripped: z.array(guardReading) }),
};

/** JSON Lines (a file `npm run score` or `npm run export` wrote), each line parsed by `schema`. */
export const parseJsonLines = <T extends z.ZodType>(schema: T, text: string): Array<z.infer<T>> =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => schema.parse(JSON.parse(line)));

/** `GET /control/:model` and the answer of every control change. */
export const readControlView = read(controlView);
/** `POST /predict/:model` answered 200 by a classifier. */
export const readPrediction = read(classPrediction);
/** `POST /predict/:model` answered 200 by a regressor. */
export const readValuePrediction = read(valuePrediction);
/** `POST /feedback` answered 200. */
export const readFeedback = read(feedbackAnswer);
/** `GET /models`. */
export const readModels = read(modelsList);
/** `GET /v2/health/ready`, 200 or 503. */
export const readReadiness = read(readiness);
/** `GET /v2/models/:model[/versions/:version]`. */
export const readModelMetadata = read(modelMetadata);
/** `POST /v2/models/:model/infer` answered 200 in JSON. */
export const readInfer = read(inferAnswer);
/** `GET /compare/:model` (with `retention` and `drift` when they apply). */
export const readCompare = read(compareReport);
/** `GET /dashboard/api/traffic/:model`. */
export const readTraffic = read(traffic);
/** Any 4xx/5xx outside /v2: `{"error": {code, message}}`. */
export const readError = read(errorBody);
/** Any 4xx/5xx under /v2: `{"error": "<message>", "code"}`. */
export const readOipError = read(oipErrorBody);
/** Either error shape, as `{code, message}`: for a check that runs on both protocols. */
export const readAnyError = async (res: Response): Promise<{ code: string; message: string }> => {
  const body: unknown = await res.json();
  const oip = oipErrorBody.safeParse(body);
  if (oip.success) return { code: oip.data.code, message: oip.data.error };
  return errorBody.parse(body).error;
};

/**
 * `value`, failing the test when it is null or undefined: for a field the schema allows
 * to be missing (an interval below two values, the first row of a list) that this test's
 * data must produce.
 */
export function present<T>(value: T | null | undefined, what = 'value'): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}, got ${value}`);
  return value;
}
