import type { ReplayRecord, ReplayStatus } from '../db/replays.js';
import type { ReplayReport } from './report.js';

/** GET /control/replay/:id: a replay job as the API, the CLI and the dashboard show it. */
export interface ReplayView {
  id: string;
  model: string;
  candidate: string;
  window: { since: number; until: number; limit: number | null };
  status: ReplayStatus;
  progress: { rows: number; total: number | null };
  /** The bound it ran under, and the rate it kept (rows read over its running time). */
  rate: { maxRowsPerS: number; rowsPerS: number | null };
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** When done; when cancelled, of the rows replayed before the cancel. */
  report?: ReplayReport;
  error?: string;
}

export function replayView(record: ReplayRecord, now: number): ReplayView {
  const end = record.finishedAt ?? now;
  const seconds = record.startedAt === null ? 0 : (end - record.startedAt) / 1000;
  return {
    id: record.id,
    model: record.model,
    candidate: record.candidate,
    window: { since: record.since, until: record.until, limit: record.limitRows },
    status: record.status,
    progress: { rows: record.rowsDone, total: record.total },
    rate: {
      maxRowsPerS: record.maxRowsPerS,
      rowsPerS: seconds > 0 ? record.rowsDone / seconds : null,
    },
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    ...(record.report ? { report: record.report as ReplayReport } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}
