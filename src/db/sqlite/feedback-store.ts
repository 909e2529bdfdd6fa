import { eq } from 'drizzle-orm';
import type { FeedbackStore } from '../feedback.js';
import type { Db } from './client.js';
import { feedback, predictions } from './schema.js';

export function createSqliteFeedbackStore(db: Db): FeedbackStore {
  return {
    prediction: async (id) =>
      db
        .select({ model: predictions.model, version: predictions.version })
        .from(predictions)
        .where(eq(predictions.id, id))
        .get(),
    existing: async (predictionId) =>
      db
        .select({ label: feedback.label, value: feedback.value })
        .from(feedback)
        .where(eq(feedback.predictionId, predictionId))
        .get(),
    async record(predictionId, fields, ts) {
      db.insert(feedback)
        .values({ predictionId, ...fields, ts })
        .onConflictDoUpdate({ target: feedback.predictionId, set: { ...fields, ts } })
        .run();
    },
  };
}
