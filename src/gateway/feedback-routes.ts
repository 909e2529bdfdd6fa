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
  label: z.string().min(1).max(256),
  overwrite: z.boolean().optional(),
});

/** POST /feedback: ground truth for a served prediction, so accuracy can be compared. */
export function feedbackRoutes(deps: {
  feedback: FeedbackStore;
  predictionLog: PredictionLog;
  host: ModelHost;
  hasControlToken: (c: Context) => boolean;
}) {
  return new Hono().post('/feedback', async (c) => {
    const parsed = feedbackSchema.safeParse(await readJson(c));
    if (!parsed.success) throw invalidInput(validationMessage(parsed.error.issues));
    const { predictionId, label, overwrite } = parsed.data;
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
    const labels = deps.host.get(prediction.model, prediction.version)?.labels;
    if (labels && !labels.includes(label)) {
      throw invalidInput(
        `label: "${label}" is not a label of ${prediction.model} (${labels.join(', ')})`,
      );
    }
    const previous = await deps.feedback.existing(predictionId);
    if (previous !== undefined && !overwrite) {
      throw conflict(
        `predictionId: "${predictionId}" already has label "${previous}"; send "overwrite": true to replace it`,
      );
    }
    await deps.feedback.record(predictionId, label, Date.now());
    return c.json({ predictionId, label, model: prediction.model, version: prediction.version });
  });
}
