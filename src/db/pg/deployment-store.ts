import { desc, eq, sql } from 'drizzle-orm';
import { conflict } from '../../errors.js';
import { toDeploymentState, toEventRow, toStoredEvent } from '../deployment-rows.js';
import type { DeploymentState } from '../deployment-state.js';
import type { DeploymentStore, LaggingDeployment } from '../deployments.js';
import type { PgDb } from './client.js';
import { messageOf, whileReachable } from './errors.js';
import { deploymentEvents, deployments, rollouts } from './schema.js';

/** The channel every replica listens on; the payload is the model whose row changed. */
export const DEPLOYMENTS_CHANNEL = 'modelgate_deployments';

export interface PgDeploymentStore extends DeploymentStore {
  /** Re-reads every deployment: at start, after the listener reconnects, and on a timer. */
  reloadAll(): Promise<void>;
}

/**
 * Deployments cached in memory, with the database as the truth: a commit is a
 * compare-and-set transaction that notifies the other replicas, which re-read the row.
 *
 * Reads race: a re-read started before a commit can answer after it with the older row.
 * Every read and commit takes a ticket when it starts (a commit: when it has committed);
 * a result only lands if no later ticket has already set that model.
 */
export function createPgDeploymentStore(db: PgDb): PgDeploymentStore {
  const current = new Map<string, DeploymentState>();
  const landed = new Map<string, number>();
  let tickets = 0;

  let replaced: ((previous: DeploymentState, next: DeploymentState) => void) | undefined;
  const land = (ticket: number, model: string, state: DeploymentState | undefined): void => {
    if ((landed.get(model) ?? 0) > ticket) return;
    landed.set(model, ticket);
    const previous = current.get(model);
    if (state) current.set(model, state);
    else current.delete(model);
    if (previous && state && previous.revision !== state.revision) replaced?.(previous, state);
  };

  let prepare: ((next: DeploymentState) => Promise<void>) | undefined;
  const lagging = new Map<string, LaggingDeployment>();
  /** Whether `next` may replace what is in memory: its versions are ready here. */
  const ready = async (next: DeploymentState): Promise<boolean> => {
    if (!prepare) return true;
    try {
      await prepare(next);
      lagging.delete(next.model);
      return true;
    } catch (error) {
      lagging.set(next.model, {
        model: next.model,
        revision: next.revision,
        reason: messageOf(error),
      });
      // With nothing to keep serving, the new deployment lands anyway (and answers 503).
      return !current.has(next.model);
    }
  };

  return {
    get: (model) => current.get(model),
    prepareWith: (fn) => {
      prepare = fn;
    },
    lagging: () => [...lagging.values()],
    onReplaced: (listener) => {
      replaced = listener;
    },
    all: () => [...current.values()],

    async commit(next, event, rollout) {
      await whileReachable(
        db.transaction(async (tx) => {
          const expected = next.revision - 1;
          const row = { ...next, updatedAt: event.ts };
          if (next.revision === 0) {
            // No row to lock yet: the primary key decides between two replicas creating it.
            const created = await tx
              .insert(deployments)
              .values(row)
              .onConflictDoNothing({ target: deployments.model })
              .returning({ model: deployments.model });
            if (created.length === 0) {
              throw conflict(
                `deployment of "${next.model}" changed concurrently (it exists already, expected none)`,
              );
            }
          } else {
            const [stored] = await tx
              .select({ revision: deployments.revision })
              .from(deployments)
              .where(eq(deployments.model, next.model))
              .for('update');
            if (stored?.revision !== expected) {
              throw conflict(
                `deployment of "${next.model}" changed concurrently (revision ${stored?.revision}, expected ${expected})`,
              );
            }
            await tx.update(deployments).set(row).where(eq(deployments.model, next.model));
          }
          await tx.insert(deploymentEvents).values(toEventRow(event));
          if (rollout) {
            await tx
              .insert(rollouts)
              .values(rollout)
              .onConflictDoUpdate({ target: rollouts.model, set: rollout });
          }
          // Delivered to every listener (this replica's too) when the transaction commits.
          await tx.execute(sql`SELECT pg_notify(${DEPLOYMENTS_CHANNEL}, ${next.model})`);
        }),
      );
      land(++tickets, next.model, next);
    },

    async events(model, limit) {
      const rows = await whileReachable(
        db
          .select()
          .from(deploymentEvents)
          .where(eq(deploymentEvents.model, model))
          .orderBy(desc(deploymentEvents.id))
          .limit(limit),
      );
      return rows.map(toStoredEvent);
    },

    async reload(model) {
      const ticket = ++tickets;
      const [row] = await whileReachable(
        db.select().from(deployments).where(eq(deployments.model, model)),
      );
      const next = row && toDeploymentState(row);
      if (!next || (await ready(next))) land(ticket, model, next);
      return current.get(model);
    },

    async reloadAll() {
      const ticket = ++tickets;
      const rows = await db.select().from(deployments);
      const seen = new Set<string>();
      for (const row of rows) {
        seen.add(row.model);
        const next = toDeploymentState(row);
        if (await ready(next)) land(ticket, row.model, next);
      }
      for (const model of [...current.keys()]) if (!seen.has(model)) land(ticket, model, undefined);
    },
  };
}
