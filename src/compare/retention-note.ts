import { formatDuration } from '../duration.js';

/**
 * What /compare and `npm run compare` add when the window reaches past the log's
 * retention: the figures cover only what is left, and the reader should know.
 */
export interface RetentionNote {
  retentionMs: number;
  /** ms since epoch: predictions older than this may have been deleted. */
  keptSince: number;
  message: string;
}

export function retentionNote(
  since: number | undefined,
  retentionMs: number | null,
  now: number,
): RetentionNote | null {
  if (retentionMs === null) return null;
  const keptSince = now - retentionMs;
  if (since !== undefined && since >= keptSince) return null;
  return {
    retentionMs,
    keptSince,
    message: `the log keeps ${formatDuration(retentionMs)} (MODELGATE_LOG_RETENTION): this window starts before ${new Date(keptSince).toISOString()}, and predictions older than that have been deleted`,
  };
}
