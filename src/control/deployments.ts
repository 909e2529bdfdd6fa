/**
 * The deployment state machine: state + command → next state and its audit
 * event, or an AppError. Pure: the service supplies time, actor and storage.
 */
import type {
  DeploymentEvent,
  DeploymentState,
  SplitSource,
  SplitWeights,
} from '../db/deployment-state.js';
import { badRequest, conflict, invalidTransition, versionNotFound } from '../errors.js';
import { compareVersions } from '../models/registry.js';

export type DeploymentCommand =
  | { type: 'promote'; version: string }
  | { type: 'rollback' }
  | { type: 'flip' }
  | { type: 'split'; weights: SplitWeights }
  | { type: 'source'; source: SplitSource }
  | { type: 'unpin' }
  | { type: 'shadow'; version: string; percent: number }
  /**
   * A version loaded from the models directory, with its model.onnx's SHA-256. A file
   * that differs from the one the deployment hosts under that name is refused unless
   * `reload`; the same file again changes nothing.
   */
  | { type: 'load'; version: string; sha256: string; reload?: boolean }
  | { type: 'unload'; version: string }
  /** A progressive rollout moving traffic to its next step. */
  | { type: 'rollout_step'; weights: SplitWeights; first: boolean }
  /** A rollout stopping: all traffic to live, pinned when a guard tripped. */
  | {
      type: 'rollout_halt';
      action: 'rollout_abort' | 'rollout_guard_tripped';
      candidate: string;
      detail?: Record<string, unknown>;
    }
  /** The last step passed: the candidate becomes live. */
  | { type: 'rollout_complete'; version: string };

/** Manual changes of who serves, which a running rollout owns. */
export const ROLLOUT_OWNED: ReadonlySet<DeploymentCommand['type']> = new Set([
  'promote',
  'rollback',
  'flip',
  'split',
  'source',
]);

export type DeploymentChange = Omit<DeploymentEvent, 'ts' | 'actor' | 'reason'>;

export interface DeploymentTransition {
  /** The input object itself when nothing changed: the caller then skips persisting. */
  state: DeploymentState;
  event: DeploymentChange;
}

/**
 * Versions the way people number them: 'v2' < 'v10', '1.2' < '1.10'. The registry's order,
 * so the host and the state machine agree on "lowest", with a plain string tie-break because
 * the registry's ignores case and leading zeros ('V1' = 'v1') and readdir order is arbitrary.
 */
export function naturalVersionCompare(a: string, b: string): number {
  return compareVersions(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** The 409 for a repeated load of a version whose file is not the one it serves. */
export const fileChanged = (model: string, version: string, serving: string, onDisk: string) =>
  conflict(
    `${model}/${version}: model.onnx changed (serving sha256 ${serving}, on disk ${onDisk}); send "reload": true to serve the new file under the same version`,
  );

/**
 * First start: the lowest version is live and the next one standby. `hosted` is every
 * version found, with its model.onnx's SHA-256: each replica must host the same files.
 */
export function initialState(
  model: string,
  versions: readonly string[],
  hosted: Record<string, string> = {},
): DeploymentState {
  const sorted = [...versions].sort(naturalVersionCompare);
  const [live, standby] = sorted;
  if (live === undefined) throw badRequest(`model "${model}" has no versions`);
  return {
    model,
    live,
    standby: standby ?? null,
    history: [],
    split: null,
    source: 'local',
    pinned: false,
    shadow: null,
    hosted: { ...hosted },
    revision: 0,
  };
}

export function applyDeploymentCommand(
  state: DeploymentState,
  command: DeploymentCommand,
  loaded: ReadonlySet<string>,
): DeploymentTransition {
  const { model } = state;
  const requireLoaded = (version: string) => {
    if (!loaded.has(version)) throw versionNotFound(model, version);
  };
  const next = (changes: Partial<DeploymentState>, event: Omit<DeploymentChange, 'model'>) => ({
    state: { ...state, ...changes, revision: state.revision + 1 },
    event: { model, ...event },
  });

  switch (command.type) {
    case 'promote': {
      requireLoaded(command.version);
      if (command.version === state.live) {
        throw invalidTransition(`${model}: "${command.version}" is already live`);
      }
      return next(
        {
          live: command.version,
          standby: state.live,
          history: [...state.history, state.live],
          pinned: true,
        },
        { action: 'promote', from: state.live, to: command.version },
      );
    }
    case 'rollback': {
      const previous = state.history.at(-1);
      if (previous === undefined) {
        throw invalidTransition(`${model}: no earlier live version to roll back to`);
      }
      if (!loaded.has(previous)) {
        throw invalidTransition(
          `${model}: the previous live version "${previous}" is not loaded; load it first`,
        );
      }
      return next(
        { live: previous, standby: state.live, history: state.history.slice(0, -1), pinned: true },
        { action: 'rollback', from: state.live, to: previous },
      );
    }
    case 'flip': {
      const { standby } = state;
      if (standby === null) throw invalidTransition(`${model}: no standby version to flip to`);
      // A flip is a change of live like any other: a rollback after it undoes it.
      return next(
        {
          live: standby,
          standby: state.live,
          history: [...state.history, state.live],
          pinned: true,
        },
        { action: 'flip', from: state.live, to: standby },
      );
    }
    case 'split': {
      const entries = Object.entries(command.weights);
      for (const [version] of entries) requireLoaded(version);
      if (entries.reduce((total, [, weight]) => total + weight, 0) <= 0) {
        throw badRequest('weights: the total must be greater than 0');
      }
      return next(
        { split: { ...command.weights }, source: 'local', pinned: false },
        { action: 'split', from: null, to: null, detail: { weights: command.weights } },
      );
    }
    case 'source':
      return next(
        { source: command.source, pinned: false },
        { action: 'source', from: state.source, to: command.source },
      );
    case 'unpin':
      if (!state.pinned) return { state, event: { model, action: 'unpin', from: null, to: null } };
      return next({ pinned: false }, { action: 'unpin', from: null, to: null });
    case 'shadow': {
      if (!(command.percent >= 0 && command.percent <= 100)) {
        throw badRequest('percent: expected 0 to 100');
      }
      requireLoaded(command.version);
      if (command.percent > 0 && command.version === state.live) {
        throw invalidTransition(
          `${model}: cannot shadow the live version "${command.version}" to itself`,
        );
      }
      const shadow =
        command.percent === 0 ? null : { version: command.version, percent: command.percent };
      return next(
        { shadow },
        {
          action: 'shadow',
          from: state.live,
          to: command.version,
          detail: { percent: command.percent },
        },
      );
    }
    case 'rollout_step': {
      for (const version of Object.keys(command.weights)) requireLoaded(version);
      return next(
        { split: { ...command.weights }, source: 'local', pinned: false },
        {
          action: command.first ? 'rollout_start' : 'rollout_step',
          from: state.live,
          to: Object.keys(command.weights).at(-1) ?? null,
          detail: { weights: command.weights },
        },
      );
    }
    case 'rollout_halt':
      return next(
        { split: null, pinned: command.action === 'rollout_guard_tripped' },
        {
          action: command.action,
          from: command.candidate,
          to: state.live,
          detail: command.detail ?? null,
        },
      );
    case 'rollout_complete': {
      requireLoaded(command.version);
      const promoted =
        command.version === state.live
          ? { split: null, pinned: true }
          : {
              live: command.version,
              standby: state.live,
              history: [...state.history, state.live],
              split: null,
              pinned: true,
            };
      return next(promoted, { action: 'rollout_complete', from: state.live, to: command.version });
    }
    case 'load': {
      const { version, sha256 } = command;
      const previous = state.hosted[version];
      if (previous === sha256)
        return { state, event: { model, action: 'load', from: null, to: version } };
      if (previous !== undefined && !command.reload)
        throw fileChanged(model, version, previous, sha256);
      return next(
        { hosted: { ...state.hosted, [version]: sha256 } },
        {
          action: previous === undefined ? 'load' : 'reload',
          from: null,
          to: version,
          detail: previous === undefined ? { sha256 } : { sha256, previousSha256: previous },
        },
      );
    }
    case 'unload': {
      requireLoaded(command.version);
      if (command.version === state.live || command.version === state.standby) {
        const role = command.version === state.live ? 'live' : 'standby';
        throw invalidTransition(
          `${model}: cannot unload "${command.version}", it is the ${role} version`,
        );
      }
      if (state.split && (state.split[command.version] ?? 0) > 0) {
        throw invalidTransition(
          `${model}: cannot unload "${command.version}", the split sends it traffic; remove it from the split first`,
        );
      }
      const shadow = state.shadow?.version === command.version ? null : state.shadow;
      const { [command.version]: _unloaded, ...hosted } = state.hosted;
      return next({ shadow, hosted }, { action: 'unload', from: command.version, to: null });
    }
  }
}
