import type Database from 'better-sqlite3';
import { Hono } from 'hono';
import { modelNotFound } from '../errors.js';
import { buildCompareReport, type ConfiguredSplit } from './report.js';
import { parseTimePoint, parseVersionList } from './time-window.js';

/** GET /compare/:model?since&until&versions — the A/B test's numbers. */
export function compareRoutes(deps: {
  sqlite: Database.Database;
  flushLog: () => void;
  configuredSplit: (model: string) => ConfiguredSplit | null | undefined;
}) {
  return new Hono().get('/compare/:model', (c) => {
    const model = c.req.param('model');
    const split = deps.configuredSplit(model);
    if (split === undefined) throw modelNotFound(model);
    const now = Date.now();
    // Read-your-writes: a comparison right after traffic includes it.
    deps.flushLog();
    const report = buildCompareReport(
      deps.sqlite,
      {
        model,
        since: parseTimePoint('since', c.req.query('since'), now),
        until: parseTimePoint('until', c.req.query('until'), now),
        versions: parseVersionList(c.req.query('versions')),
      },
      split,
      now,
    );
    return c.json(report);
  });
}
