import { Hono } from 'hono';
import type { StatsQueries } from '../db/stats-queries.js';
import { modelNotFound } from '../errors.js';
import { type ConfiguredSplit, loadCompareReport } from './report.js';
import { retentionNote } from './retention-note.js';
import { parseSince, parseTimePoint, parseVersionList } from './time-window.js';

/** GET /compare/:model?since&until&versions — the A/B test's numbers (`since=split`: the current experiment). */
export function compareRoutes(deps: {
  queries: StatsQueries;
  flushLog: () => Promise<void>;
  configuredSplit: (model: string) => ConfiguredSplit | null | undefined;
  /** MODELGATE_LOG_RETENTION in ms, or null: a window reaching past it says so. */
  retentionMs: number | null;
}) {
  return new Hono().get('/compare/:model', async (c) => {
    const model = c.req.param('model');
    const split = deps.configuredSplit(model);
    if (split === undefined) throw modelNotFound(model);
    const now = Date.now();
    const start = parseSince('since', c.req.query('since'), now);
    const report = await loadCompareReport(
      deps,
      {
        model,
        ...start,
        until: parseTimePoint('until', c.req.query('until'), now),
        versions: parseVersionList(c.req.query('versions')),
      },
      split,
      now,
    );
    // The start the report used: with since=split, the split change.
    const retention = retentionNote(report.window.since ?? undefined, deps.retentionMs, now);
    return c.json(retention ? { ...report, retention } : report);
  });
}
