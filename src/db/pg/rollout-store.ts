import { and, eq } from 'drizzle-orm';
import type { RolloutRecord, RolloutStore } from '../rollouts.js';
import type { PgDb } from './client.js';
import { whileReachable } from './errors.js';
import { rollouts } from './schema.js';

export function createPgRolloutStore(db: PgDb): RolloutStore {
  return {
    async get(model) {
      const [row] = await whileReachable(
        db.select().from(rollouts).where(eq(rollouts.model, model)),
      );
      return row as RolloutRecord | undefined;
    },
    running: async () =>
      (await whileReachable(
        db.select().from(rollouts).where(eq(rollouts.status, 'running')),
      )) as RolloutRecord[],
    async saveIfSameStep(record) {
      // Blocks behind a commit holding the row, then re-checks the condition on its result.
      const updated = await whileReachable(
        db
          .update(rollouts)
          .set(record)
          .where(
            and(
              eq(rollouts.model, record.model),
              eq(rollouts.status, 'running'),
              eq(rollouts.stepIndex, record.stepIndex),
              eq(rollouts.stepStartedAt, record.stepStartedAt),
            ),
          )
          .returning({ model: rollouts.model }),
      );
      return updated.length === 1;
    },
  };
}
