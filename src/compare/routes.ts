import { Hono } from 'hono';
import type { StatsQueries } from '../db/stats-queries.js';
import { modelNotFound } from '../errors.js';
import type { TrainingFeatureStats } from './drift.js';
import { loadDrift } from './load-drift.js';
import { type ConfiguredSplit, loadCompareReport } from './report.js';
import { retentionNote } from './retention-note.js';
import {
  parseDriftBaseline,
  parsePsiThreshold,
  parseSince,
  parseTimePoint,
  parseVersionList,
} from './time-window.js';

/**
 * GET /compare/:model?since&until&versions — the A/B test's numbers (`since=split`: the
 * current experiment); with `baseline` (`7d..1d` or `training`) and `psiThreshold`, drift too.
 */
export function compareRoutes(deps: {
  queries: StatsQueries;
  flushLog: () => Promise<void>;
  configuredSplit: (model: string) => ConfiguredSplit | null | undefined;
  /** MODELGATE_LOG_RETENTION in ms, or null: a window reaching past it says so. */
  retentionMs: number | null;
  /** model.json `featureStats` of a loaded version. */
  featureStats?: (
    model: string,
    version: string,
  ) => Readonly<Record<string, TrainingFeatureStats>> | undefined;
}) {
  return new Hono().get('/compare/:model', async (c) => {
    const model = c.req.param('model');
    const split = deps.configuredSplit(model);
    if (split === undefined) throw modelNotFound(model);
    const now = Date.now();
    const start = parseSince('since', c.req.query('since'), now);
    const baseline = parseDriftBaseline(c.req.query('baseline'), now);
    const psiThreshold = parsePsiThreshold(c.req.query('psiThreshold'));
    const versions = parseVersionList(c.req.query('versions'));
    const report = await loadCompareReport(
      deps,
      {
        model,
        ...start,
        until: parseTimePoint('until', c.req.query('until'), now),
        versions,
      },
      split,
      now,
    );
    // The start the report used: with since=split, the split change.
    const retention = retentionNote(report.window.since ?? undefined, deps.retentionMs, now);
    // Drift reads every served row of the window (a streamed pass): only when asked.
    const drift = baseline
      ? await loadDrift(deps, {
          model,
          since: report.window.since ?? 0,
          until: report.window.until,
          versions,
          baseline,
          psiThreshold,
        })
      : undefined;
    return c.json({ ...report, ...(retention && { retention }), ...(drift && { drift }) });
  });
}
