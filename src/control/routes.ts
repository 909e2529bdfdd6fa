import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { conflict, invalidInput } from '../errors.js';
import { requireControlToken } from '../http/control-token.js';
import { readJson } from '../http/read-json.js';
import { nameSchema } from '../names.js';
import { validationMessage } from '../validation-message.js';
import type { DeploymentCommand } from './deployments.js';
import { RETIRED_GUARD_FIELDS } from './rollout/plan.js';
import type { RolloutService } from './rollout/service.js';
import type { ControlService } from './service.js';

const reason = z.string().max(500).optional();
/** A non-inferiority margin in the metric's own unit: 0.02 is 2 points of a rate. */
const margin = (max: number) => z.number().gt(0, 'expected > 0').max(max, `expected ≤ ${max}`);
const schemas = {
  promote: z.object({ model: nameSchema, version: nameSchema, reason }),
  rollback: z.object({ model: nameSchema, reason }),
  flip: z.object({ model: nameSchema, reason }),
  split: z.object({
    model: nameSchema,
    weights: z
      .record(
        nameSchema,
        z
          .number()
          .int('expected a whole number')
          .min(0, 'expected ≥ 0')
          .max(1_000_000, 'expected ≤ 1000000'),
      )
      .refine((w) => Object.keys(w).length > 0, 'expected at least one version'),
    reason,
  }),
  source: z.object({ model: nameSchema, source: z.enum(['local', 'unleash']), reason }),
  shadow: z.object({
    model: nameSchema,
    version: nameSchema,
    percent: z.number().min(0).max(100),
    reason,
  }),
  load: z.object({
    model: nameSchema,
    version: nameSchema,
    reload: z.boolean().optional(),
    reason,
  }),
  unload: z.object({ model: nameSchema, version: nameSchema, reason }),
  rollout: z.object({
    model: nameSchema,
    version: nameSchema,
    steps: z.array(z.number()).min(1, 'expected at least one step'),
    interval: z.string(),
    alpha: z.number().gt(0, 'expected > 0').lt(0.5, 'expected < 0.5').optional(),
    maxStepDuration: z.string().optional(),
    onInconclusive: z.enum(['hold', 'rollback']).optional(),
    guards: z
      .preprocess(
        retiredGuardFields,
        z.strictObject({
          errorRate: z.strictObject({ margin: margin(1) }).optional(),
          latencyP95: z.strictObject({ maxRatio: z.number().gt(1, 'expected > 1') }).optional(),
          shadowDisagreement: z
            .strictObject({
              maxPercent: z.number().gt(0, 'expected > 0').max(100, 'expected ≤ 100'),
            })
            .optional(),
          accuracy: z.strictObject({ margin: margin(1) }).optional(),
          value: z
            .strictObject({
              margin: z.number().gt(0, 'expected > 0').finite(),
              better: z.enum(['higher', 'lower']),
            })
            .optional(),
          mae: z.strictObject({ margin: z.number().gt(0, 'expected > 0').finite() }).optional(),
          rmse: z.strictObject({ margin: z.number().gt(0, 'expected > 0').finite() }).optional(),
        }),
      )
      .default({}),
    reason,
  }),
  abort: z.object({ model: nameSchema, reason }),
};

/** The guard fields of the fixed-threshold rules: a 400 that names what replaced each. */
function retiredGuardFields(guards: unknown, ctx: z.core.$RefinementCtx) {
  if (typeof guards !== 'object' || guards === null) return guards;
  for (const [guard, config] of Object.entries(guards)) {
    if (typeof config !== 'object' || config === null) continue;
    for (const field of Object.keys(config)) {
      const replacement = RETIRED_GUARD_FIELDS[field];
      if (replacement) ctx.addIssue({ code: 'custom', message: replacement, path: [guard, field] });
    }
  }
  return guards;
}

async function parse<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const parsed = schema.safeParse(await readJson(c));
  if (!parsed.success) throw invalidInput(validationMessage(parsed.error.issues));
  return parsed.data;
}

/** /control: every endpoint needs the bearer token; each change is one audited transaction. */
export function controlRoutes(deps: {
  control: ControlService;
  rollout: RolloutService;
  hasControlToken: (c: Context) => boolean;
  actor: string;
  /** Whether UNLEASH_URL is set: without it an `unleash` source would silently serve live. */
  unleashConfigured: boolean;
}) {
  const { control } = deps;
  const { actor } = deps;
  const answer = async (c: Context, model: string, command: DeploymentCommand, why?: string) => {
    await control.apply(model, command, { actor, reason: why ?? null });
    return c.json(await control.view(model));
  };

  return new Hono()
    .use('/control/*', requireControlToken(deps.hasControlToken))
    .get('/control/:model', async (c) => c.json(await control.view(c.req.param('model'))))
    .post('/control/promote', async (c) => {
      const body = await parse(c, schemas.promote);
      return answer(c, body.model, { type: 'promote', version: body.version }, body.reason);
    })
    .post('/control/rollback', async (c) => {
      const body = await parse(c, schemas.rollback);
      return answer(c, body.model, { type: 'rollback' }, body.reason);
    })
    .post('/control/flip', async (c) => {
      const body = await parse(c, schemas.flip);
      return answer(c, body.model, { type: 'flip' }, body.reason);
    })
    .put('/control/split', async (c) => {
      const body = await parse(c, schemas.split);
      return answer(c, body.model, { type: 'split', weights: body.weights }, body.reason);
    })
    .put('/control/source', async (c) => {
      const body = await parse(c, schemas.source);
      if (body.source === 'unleash' && !deps.unleashConfigured) {
        throw conflict(
          'source: "unleash" needs UNLEASH_URL, which this gateway was started without; every request would go to live',
        );
      }
      return answer(c, body.model, { type: 'source', source: body.source }, body.reason);
    })
    .put('/control/shadow', async (c) => {
      const body = await parse(c, schemas.shadow);
      const command = { type: 'shadow', version: body.version, percent: body.percent } as const;
      return answer(c, body.model, command, body.reason);
    })
    .post('/control/load', async (c) => {
      const body = await parse(c, schemas.load);
      const meta = { actor, reason: body.reason ?? null };
      await control.load(body.model, body.version, { reload: body.reload ?? false }, meta);
      return c.json(await control.view(body.model));
    })
    .post('/control/rollout', async (c) => {
      const { model, reason: why, ...request } = await parse(c, schemas.rollout);
      await deps.rollout.start(model, request, { actor, reason: why ?? null });
      return c.json(await control.view(model));
    })
    .post('/control/rollout/abort', async (c) => {
      const body = await parse(c, schemas.abort);
      await deps.rollout.abort(body.model, { actor, reason: body.reason ?? null });
      return c.json(await control.view(body.model));
    })
    .post('/control/unload', async (c) => {
      const body = await parse(c, schemas.unload);
      return answer(c, body.model, { type: 'unload', version: body.version }, body.reason);
    });
}
