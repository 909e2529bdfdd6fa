import { eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { feedback, predictions } from './schema.js';

export interface FeedbackStore {
  /** The prediction the feedback is about, or undefined if there is none. */
  prediction(id: string): Promise<{ model: string; version: string } | undefined>;
  existing(predictionId: string): Promise<string | undefined>;
  record(predictionId: string, label: string, ts: number): Promise<void>;
}

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
