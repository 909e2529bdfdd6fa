import { eq } from 'drizzle-orm';
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
    async save(record) {
      await whileReachable(
        db
          .insert(rollouts)
          .values(record)
          .onConflictDoUpdate({ target: rollouts.model, set: record }),
      );
    },
  };
}
