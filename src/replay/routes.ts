import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { MAX_TIME_MS, parseTimePoint } from '../compare/time-window.js';
import { invalidInput } from '../errors.js';
import { requireControlToken } from '../http/control-token.js';
import { readJson } from '../http/read-json.js';
import { isName, nameSchema } from '../names.js';
import { validationMessage } from '../validation-message.js';
import type { ReplayRequest, ReplayService } from './service.js';

/** Without `since`, a replay reads the last day: "yesterday's traffic". */
export const DEFAULT_REPLAY_SINCE = '1d';
export const MAX_REPLAY_LIMIT = 100_000_000;
const LIST_LIMIT = 20;

const timePoint = z
  .union([
    z.string().max(100),
    z
      .number()
      .int('expected whole ms since 1970')
      .min(0, 'expected ms since 1970 (≥ 0)')
      .max(MAX_TIME_MS, `expected ≤ ${MAX_TIME_MS} ms since 1970`),
  ])
  .optional();
const replayBody = z.strictObject({
  model: nameSchema,
  candidate: nameSchema,
  since: timePoint,
  until: timePoint,
  limit: z
    .number()
    .int('expected a whole number')
    .min(1, 'expected ≥ 1')
    .max(MAX_REPLAY_LIMIT, `expected ≤ ${MAX_REPLAY_LIMIT}`)
    .optional(),
});

/**
 * The body as a request: time points as /compare takes them (1d, an ISO date, ms). An
 * `until` after now is read as now: a replay reads rows already served, and its total is
 * counted when it starts.
 */
export function parseReplayRequest(body: unknown, now: number): ReplayRequest {
  const parsed = replayBody.safeParse(body);
  if (!parsed.success) throw invalidInput(validationMessage(parsed.error.issues));
  const { model, candidate, limit } = parsed.data;
  const text = (value: string | number | undefined) =>
    value === undefined ? undefined : String(value);
  const since = parseTimePoint('since', text(parsed.data.since) ?? DEFAULT_REPLAY_SINCE, now);
  const until = Math.min(parseTimePoint('until', text(parsed.data.until), now) ?? now, now);
  if ((since as number) >= until) {
    throw invalidInput(
      `until: the window is empty: it must end after it starts (since ${since}, until ${until}; an until after now is read as now)`,
    );
  }
  return { model, candidate, since: since as number, until, limit: limit ?? null };
}

const idOf = (c: Context) => c.req.param('id') as string;

/**
 * POST /control/replay → 202 {id}; GET /control/replay/:id; GET /control/replay?model=;
 * DELETE /control/replay/:id (cancel). Control token as for every /control route.
 */
export function replayRoutes(deps: {
  replays: ReplayService;
  hasControlToken: (c: Context) => boolean;
}) {
  const auth = requireControlToken(deps.hasControlToken);
  return new Hono()
    .use('/control/replay', auth)
    .use('/control/replay/*', auth)
    .post('/control/replay', async (c) => {
      const request = parseReplayRequest(await readJson(c), Date.now());
      const job = await deps.replays.submit(request);
      return c.json(job, 202, { Location: `/control/replay/${job.id}` });
    })
    .get('/control/replay', async (c) => {
      const model = c.req.query('model');
      if (model !== undefined && !isName(model)) {
        throw invalidInput('model: expected a model or version name');
      }
      return c.json({ replays: await deps.replays.list(model ?? null, LIST_LIMIT) });
    })
    .get('/control/replay/:id', async (c) => c.json(await deps.replays.get(idOf(c))))
    .delete('/control/replay/:id', async (c) => c.json(await deps.replays.cancel(idOf(c))));
}
