import { desc, eq, sql } from 'drizzle-orm';
import { conflict } from '../../errors.js';
import { toDeploymentState, toEventRow, toStoredEvent } from '../deployment-rows.js';
import type { DeploymentEvent, DeploymentState } from '../deployment-state.js';
import type { DeploymentStore } from '../deployments.js';
import type { RolloutRecord } from '../rollouts.js';
import type { Db } from './client.js';
import { writeTransaction } from './connection.js';
import { upsertRollout } from './rollout-store.js';
import { deploymentEvents, deployments } from './schema.js';

export function createSqliteDeploymentStore(db: Db): DeploymentStore {
  const current = new Map<string, DeploymentState>();
  for (const row of db.select().from(deployments).all())
    current.set(row.model, toDeploymentState(row));

  // Prepared once: building and preparing a drizzle select took most of a flip's ~3 ms on
  // the event loop under load (scripts/bench, flips), time every request in flight waits.
  const revisionOf = db
    .select({ revision: deployments.revision })
    .from(deployments)
    .where(eq(deployments.model, sql.placeholder('model')))
    .prepare();
  const deploymentOf = db
    .select()
    .from(deployments)
    .where(eq(deployments.model, sql.placeholder('model')))
    .prepare();
  const latestEvents = db
    .select()
    .from(deploymentEvents)
    .where(eq(deploymentEvents.model, sql.placeholder('model')))
    .orderBy(desc(deploymentEvents.id))
    .limit(sql.placeholder('limit'))
    .prepare();

  const persist = writeTransaction(
    db.$client,
    (next: DeploymentState, event: DeploymentEvent, rollout: RolloutRecord | undefined) => {
      const stored = revisionOf.get({ model: next.model });
      const expected = next.revision - 1;
      if ((stored?.revision ?? -1) !== expected && !(stored === undefined && next.revision === 0)) {
        throw conflict(
          `deployment of "${next.model}" changed concurrently (revision ${stored?.revision}, expected ${expected})`,
        );
      }
      const row = { ...next, updatedAt: event.ts };
      db.insert(deployments)
        .values(row)
        .onConflictDoUpdate({ target: deployments.model, set: row })
        .run();
      db.insert(deploymentEvents).values(toEventRow(event)).run();
      if (rollout) upsertRollout(db, rollout);
    },
  );

  return {
    get: (model) => current.get(model),
    all: () => [...current.values()],
    async commit(next, event, rollout) {
      persist(next, event, rollout);
      current.set(next.model, next);
    },
    async events(model, limit) {
      return latestEvents.all({ model, limit }).map(toStoredEvent);
    },
    // One process owns the file: every change was made (and its versions loaded) here.
    prepareWith: () => {},
    lagging: () => [],
    // The control service lets go of what it unloads itself.
    onReplaced: () => {},
    async reload(model) {
      const row = deploymentOf.get({ model });
      if (row) current.set(model, toDeploymentState(row));
      else current.delete(model);
      return current.get(model);
    },
  };
}
