import { eq } from 'drizzle-orm';
import type { RolloutRecord, RolloutStore } from '../rollouts.js';
import type { Db } from './client.js';
import { rollouts } from './schema.js';

export function createSqliteRolloutStore(db: Db): RolloutStore {
  return {
    get: async (model) =>
      db.select().from(rollouts).where(eq(rollouts.model, model)).get() as
        | RolloutRecord
        | undefined,
    running: async () =>
      db.select().from(rollouts).where(eq(rollouts.status, 'running')).all() as RolloutRecord[],
    async save(record) {
      db.insert(rollouts)
        .values(record)
        .onConflictDoUpdate({ target: rollouts.model, set: record })
        .run();
    },
  };
}
