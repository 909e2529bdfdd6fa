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
        .select({ label: feedback.label })
        .from(feedback)
        .where(eq(feedback.predictionId, predictionId))
        .get()?.label,
    async record(predictionId, label, ts) {
      db.insert(feedback)
        .values({ predictionId, label, ts })
        .onConflictDoUpdate({ target: feedback.predictionId, set: { label, ts } })
        .run();
    },
  };
}
