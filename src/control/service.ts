import type { DeploymentState } from '../db/deployment-state.js';
import type { DeploymentStore, StoredDeploymentEvent } from '../db/deployment-store.js';
import { conflict, modelNotFound } from '../errors.js';
import type { ModelHost } from '../models/model-host.js';
import {
  applyDeploymentCommand,
  type DeploymentCommand,
  initialState,
  ROLLOUT_OWNED,
} from './deployments.js';

export interface ChangeMeta {
  actor: string;
  reason?: string | null;
}

export interface ModelControlView {
  deployment: DeploymentState;
  loaded: string[];
  events: StoredDeploymentEvent[];
  rollout: unknown;
}

export interface ControlService {
  view(model: string): ModelControlView;
  apply(model: string, command: DeploymentCommand, meta: ChangeMeta): Promise<DeploymentState>;
  /** Gives every hosted model a deployment (first start: lowest version live). */
  ensureDeployments(): void;
}

export function createControlService(deps: {
  host: ModelHost;
  deployments: DeploymentStore;
  /** Whether a progressive rollout owns this model's traffic right now. */
  rolloutRunning?: (model: string) => boolean;
  rolloutView?: (model: string) => unknown;
  now?: () => number;
}): ControlService {
  const { host, deployments } = deps;
  const now = deps.now ?? Date.now;

  const commit = (next: DeploymentState, event: Parameters<DeploymentStore['commit']>[1]) =>
    deployments.commit(next, event);

  const current = (model: string): DeploymentState => {
    const state = deployments.get(model);
    if (!state) throw modelNotFound(model);
    return state;
  };

  return {
    view(model) {
      return {
        deployment: current(model),
        loaded: host.versions(model),
        events: deployments.events(model, 20),
        rollout: deps.rolloutView?.(model) ?? null,
      };
    },

    async apply(model, command, meta) {
      if (ROLLOUT_OWNED.has(command.type) && deps.rolloutRunning?.(model)) {
        throw conflict(
          `a rollout of "${model}" is running; abort it first (POST /control/rollout/abort)`,
        );
      }
      // Loading is slow and async; it happens before the state is read so that the
      // read-decide-commit below runs in one synchronous step no other request can interleave.
      if (command.type === 'load' || command.type === 'promote') {
        if (!deployments.get(model) && command.type === 'promote') throw modelNotFound(model);
        await host.load(model, command.version);
      }
      if (command.type === 'load' && !deployments.get(model)) {
        const state = initialState(model, host.versions(model));
        commit(state, {
          model,
          action: 'load',
          from: null,
          to: command.version,
          actor: meta.actor,
          reason: meta.reason ?? null,
          ts: now(),
        });
        return state;
      }
      const before = current(model);
      const { state, event } = applyDeploymentCommand(before, command, host.loaded(model));
      if (state !== before) {
        commit(state, { ...event, actor: meta.actor, reason: meta.reason ?? null, ts: now() });
      }
      if (command.type === 'unload') await host.unload(model, command.version);
      return state;
    },

    ensureDeployments() {
      for (const model of host.models()) {
        const existing = deployments.get(model);
        if (existing) continue;
        const state = initialState(model, host.versions(model));
        commit(state, {
          model,
          action: 'init',
          from: null,
          to: state.live,
          actor: 'modelgate',
          reason: 'first start: lowest version live',
          ts: now(),
        });
      }
    },
  };
}
