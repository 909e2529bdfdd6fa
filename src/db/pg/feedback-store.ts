import { eq } from 'drizzle-orm';
import type { FeedbackStore } from '../feedback.js';
import type { PgDb } from './client.js';
import { whileReachable } from './errors.js';
import { feedback, predictions } from './schema.js';

export function createPgFeedbackStore(db: PgDb): FeedbackStore {
  return {
    async prediction(id) {
      const [row] = await whileReachable(
        db
          .select({ model: predictions.model, version: predictions.version })
          .from(predictions)
          .where(eq(predictions.id, id)),
      );
      return row;
    },
    async existing(predictionId) {
      const [row] = await whileReachable(
        db
          .select({ label: feedback.label, value: feedback.value })
          .from(feedback)
          .where(eq(feedback.predictionId, predictionId)),
      );
      return row;
    },
    async record(predictionId, fields, ts) {
      await whileReachable(
        db
          .insert(feedback)
          .values({ predictionId, ...fields, ts })
          .onConflictDoUpdate({ target: feedback.predictionId, set: { ...fields, ts } }),
      );
    },
  };
}
