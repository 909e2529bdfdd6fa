import type { DeploymentEvent, DeploymentState } from './deployment-state.js';
import type { StoredDeploymentEvent } from './deployments.js';

/** A `deployments` row as either dialect's drizzle schema reads it. */
export interface DeploymentRow extends Omit<DeploymentState, 'split' | 'shadow' | 'hosted'> {
  split: DeploymentState['split'] | undefined;
  shadow: DeploymentState['shadow'] | undefined;
  hosted: DeploymentState['hosted'] | undefined;
}

/** A `deployment_events` row as either dialect's drizzle schema reads it. */
export interface DeploymentEventRow {
  id: number;
  model: string;
  action: string;
  fromVersion: string | null;
  toVersion: string | null;
  actor: string;
  reason: string | null;
  detail: Record<string, unknown> | null | undefined;
  ts: number;
}

export const toDeploymentState = (row: DeploymentRow): DeploymentState => ({
  model: row.model,
  live: row.live,
  standby: row.standby,
  history: row.history,
  split: row.split ?? null,
  source: row.source,
  pinned: row.pinned,
  shadow: row.shadow ?? null,
  // Rows written before hosted versions were recorded: nothing beyond what routing needs.
  hosted: row.hosted ?? {},
  revision: row.revision,
});

export const toStoredEvent = (row: DeploymentEventRow): StoredDeploymentEvent => ({
  id: row.id,
  model: row.model,
  // Written only from DeploymentEvent['action'] values.
  action: row.action as DeploymentEvent['action'],
  from: row.fromVersion,
  to: row.toVersion,
  actor: row.actor,
  reason: row.reason,
  detail: row.detail ?? null,
  ts: row.ts,
});

/** What both dialects insert into `deployment_events` for a change. */
export const toEventRow = (event: DeploymentEvent): Omit<DeploymentEventRow, 'id'> => ({
  model: event.model,
  action: event.action,
  fromVersion: event.from,
  toVersion: event.to,
  actor: event.actor,
  reason: event.reason,
  detail: event.detail ?? null,
  ts: event.ts,
});
