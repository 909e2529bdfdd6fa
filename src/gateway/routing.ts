/**
 * Which version serves a request: the routing rules of README "Routing", first rule
 * that applies wins. Pure so every precedence and fallback is unit-testable;
 * the HTTP layer gathers the inputs and maps an unknown override to a 404.
 */
import type { DeploymentState } from '../db/deployment-state.js';
import { selectVariant } from './variant-selection.js';
import { toPerMille } from './weights.js';

export type Route = 'override' | 'pinned' | 'flag' | 'split' | 'live';

/** What the Unleash client returned for this model's flag and this request. */
export interface FlagVariant {
  enabled: boolean;
  name: string;
}

export interface RouteInput {
  state: DeploymentState;
  /** Versions of this model loaded and ready to serve. */
  loaded: ReadonlySet<string>;
  /** `X-Model-Version` (or the OIP version in the path); empty means none. */
  override?: string | undefined;
  flagVariant?: FlagVariant | undefined;
  stickyKey?: string | undefined;
  /** The flag name, `flagName(prefix, model)`: Unleash hashes with it, so must we. */
  groupId: string;
  /** [0, 1); only used when there is no sticky key. */
  random: () => number;
}

export interface RouteDecision {
  kind: 'routed';
  version: string;
  route: Route;
  /**
   * A version the flag or split chose that is not loaded, so live served
   * instead; set so the caller can warn rather than fail the request.
   */
  ignoredVariant?: string;
}

/** The override names a version that is not loaded: the caller's 404. */
export interface UnknownVersion {
  kind: 'unknown_version';
  version: string;
}

export type RouteResult = RouteDecision | UnknownVersion;

/** The Unleash flag that splits `model`, e.g. `modelgate.iris`. */
export function flagName(prefix: string, model: string): string {
  return `${prefix}${model}`;
}

export function routeRequest(input: RouteInput): RouteResult {
  const { state, loaded, override } = input;
  const live = (route: Route, ignoredVariant?: string): RouteDecision =>
    ignoredVariant === undefined
      ? { kind: 'routed', version: state.live, route }
      : { kind: 'routed', version: state.live, route, ignoredVariant };

  if (override !== undefined && override !== '') {
    if (!loaded.has(override)) return { kind: 'unknown_version', version: override };
    return { kind: 'routed', version: override, route: 'override' };
  }

  if (state.pinned) return live('pinned');

  if (state.source === 'unleash') {
    const variant = input.flagVariant;
    if (variant?.enabled) {
      if (loaded.has(variant.name)) return { kind: 'routed', version: variant.name, route: 'flag' };
      return live('live', variant.name);
    }
    return live('live');
  }

  if (state.split !== null) {
    const chosen = selectVariant(
      toPerMille(state.split),
      input.groupId,
      input.stickyKey,
      input.random,
    );
    if (chosen === undefined) return live('live');
    if (loaded.has(chosen)) return { kind: 'routed', version: chosen, route: 'split' };
    return live('live', chosen);
  }

  return live('live');
}
