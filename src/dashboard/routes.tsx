import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import type { StatsQueries } from '../db/stats-queries.js';
import { invalidInput, modelNotFound } from '../errors.js';
import { DashboardPage } from './page.js';
import { createTrafficQuery } from './traffic.js';

const MAX_MINUTES = 24 * 60;
/** Scripts only from this origin; the control token lives in this page's session storage. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** GET / (the dashboard), GET /dashboard.js (its script), and the traffic series it draws. */
export function dashboardRoutes(deps: {
  queries: StatsQueries;
  flushLog: () => Promise<void>;
  /** Whether the gateway has a deployment of this model; others answer 404. */
  hasModel: (model: string) => boolean;
}) {
  // client.ts as `npm run build` bundles it, read once: no build step at run time. The
  // path is the same from src/dashboard (tsx, tests) and from dist/dashboard (npm start).
  const script = readFileSync(new URL('../../dist/dashboard/client.js', import.meta.url), 'utf8');
  const traffic = createTrafficQuery(deps.queries);

  return new Hono()
    .get('/', (c) => {
      c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      c.header('Cache-Control', 'no-cache');
      return c.html(<DashboardPage />);
    })
    .get('/dashboard.js', (c) =>
      c.body(script, 200, {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': 'no-cache',
      }),
    )
    .get('/dashboard/api/traffic/:model', async (c) => {
      const model = c.req.param('model');
      if (!deps.hasModel(model)) throw modelNotFound(model);
      const given = c.req.query('minutes');
      const minutes = given === undefined ? 60 : Number(given);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MINUTES) {
        throw invalidInput(`minutes: expected a whole number from 1 to ${MAX_MINUTES}`);
      }
      // Read-your-writes, as /compare does: the chart includes the requests just answered.
      await deps.flushLog();
      return c.json(await traffic(model, minutes, Date.now()));
    });
}
