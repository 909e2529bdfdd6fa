/**
 * Typed reads of the replay API's answers (`/control/replay`), in the style of
 * responses.ts: each body is checked against the shape the README documents and the
 * compiler holds the schema to src/replay's own types.
 */
import { z } from 'zod';
import type { ReplayView } from '../../src/replay/job-view.js';

const count = z.number().int().nonnegative();
const interval = z.looseObject({ estimate: z.number(), low: z.number(), high: z.number() });
const errors = z.looseObject({ mae: z.number().nullable(), rmse: z.number().nullable() });

const labelFeedback = z.looseObject({
  rows: count,
  servedAccuracy: z.number().nullable(),
  candidateAccuracy: z.number().nullable(),
  servedOnly: count,
  candidateOnly: count,
  pValue: z.number(),
  difference: interval.nullable(),
});
const valueFeedback = z.looseObject({
  rows: count,
  served: errors,
  candidate: errors,
  maeDifference: interval.nullable(),
  mseDifference: interval.nullable(),
});

const report = z.looseObject({
  task: z.enum(['classification', 'regression']),
  rows: z.looseObject({ read: count, replayed: count, failed: count, skipped: count }),
  failures: z.record(z.string(), count),
  agreement: z
    .looseObject({
      rows: count,
      agreed: count,
      rate: z.number().nullable(),
      matrix: z.looseObject({
        served: z.array(z.string()),
        candidate: z.array(z.string()),
        counts: z.array(z.array(count)),
      }),
    })
    .nullable(),
  difference: z
    .looseObject({
      rows: count,
      meanAbsolute: z.number().nullable(),
      meanRelative: z.number().nullable(),
      relativeRows: count,
      quantiles: z.looseObject({ p5: z.number(), p50: z.number(), p95: z.number() }).nullable(),
    })
    .nullable(),
  feedback: z.union([labelFeedback, valueFeedback]).nullable(),
  latencyUs: z.looseObject({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable(),
});

const replayView = z.looseObject({
  id: z.string(),
  model: z.string(),
  candidate: z.string(),
  window: z.looseObject({ since: z.number(), until: z.number(), limit: count.nullable() }),
  status: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
  progress: z.looseObject({ rows: count, total: count.nullable() }),
  rate: z.looseObject({ maxRowsPerS: z.number(), rowsPerS: z.number().nullable() }),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  report: report.optional(),
  error: z.string().optional(),
});
const replayList = z.looseObject({ replays: z.array(replayView) });

type Fits<Schema extends z.ZodType, Source> = (parsed: z.infer<Schema>) => Source;
export const replaySchemasFitSource: [Fits<typeof replayView, ReplayView>] = [(r) => r];

export type ReplayJob = z.infer<typeof replayView>;
export type ReplayReportBody = z.infer<typeof report>;

/** Any answer of `GET`/`DELETE /control/replay/:id` and `POST /control/replay` (202). */
export const readReplay = async (res: Response): Promise<ReplayJob> =>
  replayView.parse(await res.json());
/** `GET /control/replay?model=`. */
export const readReplayList = async (res: Response) => replayList.parse(await res.json());
/** A parsed job (a CLI's `--json` output). */
export const parseReplay = (body: unknown): ReplayJob => replayView.parse(body);

/** The report of a finished job, failing the test when there is none. */
export function reportOf(job: ReplayJob): ReplayReportBody {
  if (!job.report) throw new Error(`replay ${job.id} (${job.status}) has no report`);
  return job.report;
}

const latency = z.looseObject({ p50: z.number(), p95: z.number(), p99: z.number() });
const agreement = report.shape.agreement.unwrap();
const difference = report.shape.difference.unwrap();

/** A classifier's report with rows replayed: agreement and latency present. */
export const classifierReport = (job: ReplayJob) =>
  report
    .extend({ agreement, latencyUs: latency, feedback: labelFeedback.nullable() })
    .parse(reportOf(job));

/** A regressor's report with rows replayed: the differences and latency present. */
export const regressorReport = (job: ReplayJob) =>
  report
    .extend({ difference, latencyUs: latency, feedback: valueFeedback.nullable() })
    .parse(reportOf(job));

/** A classifier's feedback figures, failing the test when the report has none or a regressor's. */
export const labelFeedbackOf = (job: ReplayJob) => labelFeedback.parse(reportOf(job).feedback);
/** A regressor's feedback figures. */
export const valueFeedbackOf = (job: ReplayJob) => valueFeedback.parse(reportOf(job).feedback);
