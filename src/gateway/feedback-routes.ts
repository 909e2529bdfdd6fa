import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { FeedbackStore } from '../db/feedback.js';
import type { PredictionLog } from '../db/predictions.js';
import { conflict, invalidInput, notFound } from '../errors.js';
import { unauthorized } from '../http/control-token.js';
import { readJson } from '../http/read-json.js';
import type { ModelHost } from '../models/model-host.js';
import { validationMessage } from '../validation-message.js';

const feedbackSchema = z.object({
  predictionId: z.string().min(1).max(64),
  label: z.string().min(1).max(256).optional(),
  // JSON.parse reads 1e999 as Infinity: a numeric outcome must be a finite number.
  value: z.number().refine(Number.isFinite, { message: 'must be a finite number' }).optional(),
  overwrite: z.boolean().optional(),
});

/**
 * POST /feedback: ground truth for a served prediction — the right `label` (accuracy),
 * a numeric `value` (a business outcome or a regression target), or both — so versions
 * can be compared on it.
 */
export function feedbackRoutes(deps: {
  feedback: FeedbackStore;
  predictionLog: PredictionLog;
  host: ModelHost;
  hasControlToken: (c: Context) => boolean;
}) {
  return new Hono().post('/feedback', async (c) => {
    const parsed = feedbackSchema.safeParse(await readJson(c));
    if (!parsed.success) throw invalidInput(validationMessage(parsed.error.issues));
    const { predictionId, label, value, overwrite } = parsed.data;
    if (label === undefined && value === undefined) {
      throw invalidInput('label or value: send the right label, a numeric value, or both');
    }
    // Rollout guards read this ground truth: rewriting it is an operator's act, not a client's.
    if (overwrite && !deps.hasControlToken(c)) {
      throw unauthorized(
        'overwrite: replacing a label needs the control token (Authorization: Bearer <control token>)',
      );
    }
    // The prediction may still sit in the write queue; feedback can follow a response at once.
    await deps.predictionLog.flush();
    const prediction = await deps.feedback.prediction(predictionId);
    if (!prediction) throw notFound(`predictionId: no prediction "${predictionId}"`);
    const hosted = deps.host.get(prediction.model, prediction.version);
    if (label !== undefined && hosted?.task === 'regression') {
      throw invalidInput(
        `label: ${prediction.model}/${prediction.version} is a regressor; send its true "value" instead`,
      );
    }
    const labels = hosted?.labels;
    if (label !== undefined && labels && !labels.includes(label)) {
      throw invalidInput(
        `label: "${label}" is not a label of ${prediction.model} (${labels.join(', ')})`,
      );
    }
    const previous = await deps.feedback.existing(predictionId);
    // Each field is set once: a value may follow a label, but replacing either needs overwrite.
    const taken = [
      label !== undefined && previous?.label != null ? `label "${previous.label}"` : null,
      value !== undefined && previous?.value != null ? `value ${previous.value}` : null,
    ].filter((x) => x !== null);
    if (taken.length > 0 && !overwrite) {
      throw conflict(
        `predictionId: "${predictionId}" already has ${taken.join(' and ')}; send "overwrite": true to replace it`,
      );
    }
    const fields = {
      ...(label !== undefined ? { label } : {}),
      ...(value !== undefined ? { value } : {}),
    };
    await deps.feedback.record(predictionId, fields, Date.now());
    return c.json({
      predictionId,
      ...fields,
      model: prediction.model,
      version: prediction.version,
    });
  });
}
