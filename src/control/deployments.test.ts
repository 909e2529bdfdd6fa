import { describe, expect, it } from 'vitest';
import type { DeploymentState } from '../db/deployment-state.js';
import { AppError, type ErrorCode, type ErrorStatus } from '../errors.js';
import {
  applyDeploymentCommand,
  type DeploymentCommand,
  initialState,
  naturalVersionCompare,
} from './deployments.js';

const ALL = new Set(['v1', 'v2', 'v3']);

/** A state that cannot be changed in place, so any mutation by the machine throws. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function state(overrides: Partial<DeploymentState> = {}): DeploymentState {
  return deepFreeze({ ...initialState('iris', ['v1', 'v2', 'v3']), ...overrides });
}

function apply(
  from: DeploymentState,
  command: DeploymentCommand,
  loaded: ReadonlySet<string> = ALL,
) {
  return applyDeploymentCommand(deepFreeze(from), command, loaded);
}

function expectAppError(
  run: () => unknown,
  status: ErrorStatus,
  code: ErrorCode,
  message?: RegExp,
): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AppError);
  expect(caught).toMatchObject({ status, code });
  if (message) expect((caught as AppError).message).toMatch(message);
}

describe('naturalVersionCompare', () => {
  it('orders numbers inside names by value', () => {
    expect(naturalVersionCompare('v2', 'v10')).toBeLessThan(0);
    expect(naturalVersionCompare('v10', 'v2')).toBeGreaterThan(0);
    expect(naturalVersionCompare('1', '2')).toBeLessThan(0);
    expect(naturalVersionCompare('2', '10')).toBeLessThan(0);
    expect(naturalVersionCompare('v1.2', 'v1.10')).toBeLessThan(0);
    expect(naturalVersionCompare('v1', 'v1.1')).toBeLessThan(0);
    expect(naturalVersionCompare('v1.9', 'v2')).toBeLessThan(0);
    expect(naturalVersionCompare('v3', 'v3')).toBe(0);
  });

  it('sorts a mixed list', () => {
    expect(['v10', 'v1.10', 'v2', 'v1', 'v1.2'].sort(naturalVersionCompare)).toEqual([
      'v1',
      'v1.2',
      'v1.10',
      'v2',
      'v10',
    ]);
    expect(['10', '9', '1'].sort(naturalVersionCompare)).toEqual(['1', '9', '10']);
  });

  it('breaks ties between names that differ only in case or leading zeros, both ways', () => {
    for (const [a, b] of [
      ['V1', 'v1'],
      ['v01', 'v1'],
    ] as const) {
      expect(naturalVersionCompare(a, b)).not.toBe(0);
      expect(Math.sign(naturalVersionCompare(a, b))).toBe(-Math.sign(naturalVersionCompare(b, a)));
    }
    expect(['v1', 'V1'].sort(naturalVersionCompare)).toEqual(
      ['V1', 'v1'].sort(naturalVersionCompare),
    );
  });
});

describe('initialState', () => {
  it('makes the lowest version live and the next one standby', () => {
    const hashes = deepFreeze({ v1: 'a', v2: 'b', v10: 'c' });
    expect(initialState('iris', deepFreeze(['v10', 'v2', 'v1']), hashes)).toEqual({
      model: 'iris',
      live: 'v1',
      standby: 'v2',
      history: [],
      split: null,
      source: 'local',
      pinned: false,
      shadow: null,
      hosted: { v1: 'a', v2: 'b', v10: 'c' },
      revision: 0,
    });
  });

  it('has no standby with a single version', () => {
    expect(initialState('penguins', ['v1'])).toMatchObject({ live: 'v1', standby: null });
  });

  it('rejects a model without versions', () => {
    expectAppError(() => initialState('iris', []), 400, 'bad_request', /iris/);
  });
});

describe('promote', () => {
  it('makes the standby live and the old live standby, pinned', () => {
    const { state: next, event } = apply(state(), { type: 'promote', version: 'v2' });
    expect(next).toMatchObject({
      live: 'v2',
      standby: 'v1',
      history: ['v1'],
      pinned: true,
      revision: 1,
    });
    expect(event).toEqual({ model: 'iris', action: 'promote', from: 'v1', to: 'v2' });
  });

  it('promotes a version outside the pair: the old standby leaves it', () => {
    const { state: next } = apply(state(), { type: 'promote', version: 'v3' });
    expect(next).toMatchObject({ live: 'v3', standby: 'v1', history: ['v1'] });
  });

  it('keeps the split and source, which apply again once unpinned', () => {
    const from = state({ split: { v1: 90, v2: 10 }, source: 'unleash' });
    const { state: next } = apply(from, { type: 'promote', version: 'v2' });
    expect(next).toMatchObject({ split: { v1: 90, v2: 10 }, source: 'unleash', pinned: true });
  });

  it('rejects a version that is not loaded with 404', () => {
    expectAppError(
      () => apply(state(), { type: 'promote', version: 'v9' }),
      404,
      'version_not_found',
      /v9/,
    );
  });

  it('rejects the live version with 409', () => {
    expectAppError(
      () => apply(state(), { type: 'promote', version: 'v1' }),
      409,
      'invalid_transition',
      /already live/,
    );
  });

  it('checks loaded before already-live', () => {
    expectAppError(
      () => apply(state(), { type: 'promote', version: 'v1' }, new Set(['v2'])),
      404,
      'version_not_found',
    );
  });
});

describe('rollback', () => {
  it('makes the previous live version live again and pops it', () => {
    const from = state({ live: 'v3', standby: 'v2', history: ['v1', 'v2'], pinned: false });
    const { state: next, event } = apply(from, { type: 'rollback' });
    expect(next).toMatchObject({ live: 'v2', standby: 'v3', history: ['v1'], pinned: true });
    expect(event).toEqual({ model: 'iris', action: 'rollback', from: 'v3', to: 'v2' });
  });

  it('rejects with 409 when there is no earlier live version', () => {
    expectAppError(
      () => apply(state(), { type: 'rollback' }),
      409,
      'invalid_transition',
      /no earlier live version to roll back to/,
    );
  });

  it('rejects with 409 naming the previous version when it is no longer loaded', () => {
    const from = state({ live: 'v2', standby: null, history: ['v1'] });
    expectAppError(
      () => apply(from, { type: 'rollback' }, new Set(['v2'])),
      409,
      'invalid_transition',
      /"v1" is not loaded/,
    );
  });
});

describe('flip', () => {
  it('swaps live and standby, records the old live and pins', () => {
    const { state: next, event } = apply(state(), { type: 'flip' });
    expect(next).toMatchObject({
      live: 'v2',
      standby: 'v1',
      history: ['v1'],
      pinned: true,
      revision: 1,
    });
    expect(event).toEqual({ model: 'iris', action: 'flip', from: 'v1', to: 'v2' });
  });

  it('is undone by a rollback', () => {
    const flipped = apply(state(), { type: 'flip' }).state;
    const { state: back } = apply(flipped, { type: 'rollback' });
    expect(back).toMatchObject({ live: 'v1', standby: 'v2', history: [], revision: 2 });
  });

  it('rejects with 409 without a standby', () => {
    expectAppError(
      () => apply(state({ standby: null }), { type: 'flip' }),
      409,
      'invalid_transition',
      /no standby/,
    );
  });
});

describe('split', () => {
  it('sets a local split and unpins', () => {
    const from = state({ pinned: true, source: 'unleash' });
    const { state: next, event } = apply(from, { type: 'split', weights: { v1: 90, v2: 10 } });
    expect(next).toMatchObject({
      split: { v1: 90, v2: 10 },
      source: 'local',
      pinned: false,
      live: 'v1',
      revision: 1,
    });
    expect(event).toEqual({
      model: 'iris',
      action: 'split',
      from: null,
      to: null,
      detail: { weights: { v1: 90, v2: 10 } },
    });
  });

  it('stores a copy of the weights', () => {
    const weights = { v1: 50, v2: 50 };
    const { state: next } = apply(state(), { type: 'split', weights });
    weights.v1 = 0;
    expect(next.split).toEqual({ v1: 50, v2: 50 });
  });

  it('rejects a version that is not loaded with 404', () => {
    expectAppError(
      () => apply(state(), { type: 'split', weights: { v1: 90, v9: 10 } }),
      404,
      'version_not_found',
      /v9/,
    );
  });

  it('rejects weights that total 0 with 400', () => {
    expectAppError(
      () => apply(state(), { type: 'split', weights: { v1: 0, v2: 0 } }),
      400,
      'bad_request',
      /total/,
    );
    expectAppError(() => apply(state(), { type: 'split', weights: {} }), 400, 'bad_request');
  });

  it('checks loaded before the total', () => {
    expectAppError(
      () => apply(state(), { type: 'split', weights: { v1: 0, v9: 0 } }),
      404,
      'version_not_found',
    );
  });
});

describe('source', () => {
  it('switches the source and unpins, to follow it', () => {
    const { state: next, event } = apply(state({ pinned: true }), {
      type: 'source',
      source: 'unleash',
    });
    expect(next).toMatchObject({ source: 'unleash', pinned: false, revision: 1 });
    expect(event).toEqual({ model: 'iris', action: 'source', from: 'local', to: 'unleash' });
  });

  it('unpins even when the source is already the one asked for', () => {
    const { state: next } = apply(state({ pinned: true, source: 'unleash' }), {
      type: 'source',
      source: 'unleash',
    });
    expect(next).toMatchObject({ source: 'unleash', pinned: false, revision: 1 });
  });
});

describe('unpin', () => {
  it('unpins a pinned deployment', () => {
    const { state: next, event } = apply(state({ pinned: true }), { type: 'unpin' });
    expect(next).toMatchObject({ pinned: false, revision: 1 });
    expect(event).toEqual({ model: 'iris', action: 'unpin', from: null, to: null });
  });

  it('returns the input object itself when already unpinned, so the caller skips persisting', () => {
    const from = state({ pinned: false, revision: 7 });
    const result = apply(from, { type: 'unpin' });
    expect(result.state).toBe(from);
    expect(result.state.revision).toBe(7);
    expect(result.event).toMatchObject({ model: 'iris', action: 'unpin' });
  });
});

describe('shadow', () => {
  it('mirrors a share of traffic to a loaded version', () => {
    const { state: next, event } = apply(state(), { type: 'shadow', version: 'v2', percent: 25 });
    expect(next).toMatchObject({ shadow: { version: 'v2', percent: 25 }, revision: 1 });
    expect(event).toEqual({
      model: 'iris',
      action: 'shadow',
      from: 'v1',
      to: 'v2',
      detail: { percent: 25 },
    });
  });

  it('clears the shadow with percent 0, even naming the live version', () => {
    const from = state({ shadow: { version: 'v2', percent: 25 } });
    expect(apply(from, { type: 'shadow', version: 'v2', percent: 0 }).state.shadow).toBeNull();
    expect(apply(from, { type: 'shadow', version: 'v1', percent: 0 }).state.shadow).toBeNull();
  });

  it('accepts 100', () => {
    const { state: next } = apply(state(), { type: 'shadow', version: 'v3', percent: 100 });
    expect(next.shadow).toEqual({ version: 'v3', percent: 100 });
  });

  it('rejects a version that is not loaded with 404', () => {
    expectAppError(
      () => apply(state(), { type: 'shadow', version: 'v9', percent: 10 }),
      404,
      'version_not_found',
      /v9/,
    );
  });

  it('rejects the live version with 409', () => {
    expectAppError(
      () => apply(state(), { type: 'shadow', version: 'v1', percent: 10 }),
      409,
      'invalid_transition',
      /cannot shadow the live version/,
    );
  });

  it.each([-1, 101, Number.NaN, Number.POSITIVE_INFINITY])('rejects percent %s with 400', (p) => {
    expectAppError(
      () => apply(state(), { type: 'shadow', version: 'v2', percent: p }),
      400,
      'bad_request',
      /percent/,
    );
  });

  it('checks the percent before the version', () => {
    expectAppError(
      () => apply(state(), { type: 'shadow', version: 'v9', percent: 200 }),
      400,
      'bad_request',
    );
    expectAppError(
      () => apply(state(), { type: 'shadow', version: 'v1', percent: 200 }),
      400,
      'bad_request',
    );
  });
});

describe('load', () => {
  const OLD = 'a'.repeat(64);
  const NEW = 'b'.repeat(64);

  it('adds the version with its file hash to what every replica hosts, audited with the hash', () => {
    const from = state();
    const { state: next, event } = apply(from, { type: 'load', version: 'v3', sha256: NEW });
    expect(next).toEqual({ ...from, hosted: { v3: NEW }, revision: 1 });
    expect(event).toEqual({
      model: 'iris',
      action: 'load',
      from: null,
      to: 'v3',
      detail: { sha256: NEW },
    });
  });

  it('changes nothing when the same file is loaded again', () => {
    const from = state({ hosted: { v3: OLD } });
    expect(apply(from, { type: 'load', version: 'v3', sha256: OLD }).state).toBe(from);
    expect(apply(from, { type: 'load', version: 'v3', sha256: OLD, reload: true }).state).toBe(
      from,
    );
  });

  it('refuses a changed file with 409 naming both hashes unless it is a reload', () => {
    const from = state({ hosted: { v3: OLD } });
    expectAppError(
      () => apply(from, { type: 'load', version: 'v3', sha256: NEW }),
      409,
      'conflict',
      new RegExp(
        `iris/v3: model.onnx changed \\(serving sha256 ${OLD}, on disk ${NEW}\\).*"reload": true`,
      ),
    );
  });

  it('a reload records the new hash and audits old and new', () => {
    const from = state({ hosted: { v3: OLD } });
    const { state: next, event } = apply(from, {
      type: 'load',
      version: 'v3',
      sha256: NEW,
      reload: true,
    });
    expect(next).toEqual({ ...from, hosted: { v3: NEW }, revision: 1 });
    expect(event).toEqual({
      model: 'iris',
      action: 'reload',
      from: null,
      to: 'v3',
      detail: { sha256: NEW, previousSha256: OLD },
    });
  });
});

describe('unload', () => {
  it('unloads a version outside the pair, on every replica (no longer hosted)', () => {
    const from = state({ hosted: { v1: 'a', v2: 'b', v3: 'c' } });
    const { state: next, event } = apply(from, { type: 'unload', version: 'v3' });
    expect(next).toEqual({ ...from, hosted: { v1: 'a', v2: 'b' }, revision: 1 });
    expect(event).toEqual({ model: 'iris', action: 'unload', from: 'v3', to: null });
  });

  it('rejects the live and the standby version with 409', () => {
    expectAppError(
      () => apply(state(), { type: 'unload', version: 'v1' }),
      409,
      'invalid_transition',
      /live/,
    );
    expectAppError(
      () => apply(state(), { type: 'unload', version: 'v2' }),
      409,
      'invalid_transition',
      /standby/,
    );
  });

  it('rejects a version that is not loaded with 404', () => {
    expectAppError(
      () => apply(state(), { type: 'unload', version: 'v9' }),
      404,
      'version_not_found',
    );
  });

  it('rejects a version the split sends traffic to with 409 naming it', () => {
    const from = state({ split: { v1: 90, v3: 10 } });
    expectAppError(
      () => apply(from, { type: 'unload', version: 'v3' }),
      409,
      'invalid_transition',
      /"v3".*remove it from the split first/,
    );
  });

  it('allows a version the split gives weight 0 (drained first)', () => {
    const from = state({ split: { v1: 100, v3: 0 } });
    expect(apply(from, { type: 'unload', version: 'v3' }).state.split).toEqual({ v1: 100, v3: 0 });
  });

  it('clears the shadow when it targets the unloaded version, and only then', () => {
    const shadowed = state({ shadow: { version: 'v3', percent: 10 } });
    expect(apply(shadowed, { type: 'unload', version: 'v3' }).state.shadow).toBeNull();
    const other = state({ standby: null, shadow: { version: 'v2', percent: 10 } });
    expect(apply(other, { type: 'unload', version: 'v3' }).state.shadow).toEqual({
      version: 'v2',
      percent: 10,
    });
  });

  it('allows a version in the history; a rollback to it then fails naming it', () => {
    const from = state({ live: 'v3', standby: 'v2', history: ['v1'] });
    const { state: next } = apply(from, { type: 'unload', version: 'v1' });
    expect(next.history).toEqual(['v1']);
    expectAppError(
      () => apply(next, { type: 'rollback' }, new Set(['v2', 'v3'])),
      409,
      'invalid_transition',
      /"v1"/,
    );
  });
});

describe('every change', () => {
  const from = (): DeploymentState =>
    state({
      live: 'v2',
      standby: 'v1',
      history: ['v1'],
      split: { v1: 50, v2: 50 },
      pinned: true,
      shadow: { version: 'v3', percent: 5 },
      revision: 41,
    });
  const commands: DeploymentCommand[] = [
    { type: 'promote', version: 'v3' },
    { type: 'rollback' },
    { type: 'flip' },
    { type: 'split', weights: { v2: 1, v3: 1 } },
    { type: 'source', source: 'unleash' },
    { type: 'unpin' },
    { type: 'shadow', version: 'v1', percent: 10 },
    { type: 'load', version: 'v3', sha256: 'c'.repeat(64) },
    { type: 'unload', version: 'v3' },
  ];

  it.each(commands)(
    '$type returns a new state with revision + 1 and leaves the input as is',
    (command) => {
      const input = from();
      const snapshot = structuredClone(input);
      const { state: next, event } = apply(input, command);
      expect(next).not.toBe(input);
      expect(next.revision).toBe(42);
      expect(input).toEqual(snapshot);
      expect(event.model).toBe('iris');
      expect(event.action).toBe(command.type);
    },
  );
});

describe('a sequence of changes', () => {
  it('walks the history back through promotes and a flip', () => {
    let current = initialState('iris', ['v1', 'v2', 'v3']);
    const step = (command: DeploymentCommand) => {
      current = apply(current, command).state;
      return { live: current.live, standby: current.standby, history: current.history };
    };

    expect(step({ type: 'promote', version: 'v2' })).toEqual({
      live: 'v2',
      standby: 'v1',
      history: ['v1'],
    });
    expect(step({ type: 'promote', version: 'v3' })).toEqual({
      live: 'v3',
      standby: 'v2',
      history: ['v1', 'v2'],
    });
    expect(step({ type: 'flip' })).toEqual({
      live: 'v2',
      standby: 'v3',
      history: ['v1', 'v2', 'v3'],
    });
    // Rollback after a flip undoes the flip.
    expect(step({ type: 'rollback' })).toEqual({
      live: 'v3',
      standby: 'v2',
      history: ['v1', 'v2'],
    });
    expect(step({ type: 'rollback' })).toEqual({ live: 'v2', standby: 'v3', history: ['v1'] });
    expect(step({ type: 'rollback' })).toEqual({ live: 'v1', standby: 'v2', history: [] });
    expect(current).toMatchObject({ pinned: true, revision: 6 });
    expectAppError(() => step({ type: 'rollback' }), 409, 'invalid_transition');
    expect(current.revision).toBe(6);
  });

  it('pins on promote and unpins on split', () => {
    let current = initialState('iris', ['v1', 'v2']);
    current = apply(current, { type: 'split', weights: { v1: 90, v2: 10 } }).state;
    expect(current.pinned).toBe(false);
    current = apply(current, { type: 'promote', version: 'v2' }).state;
    expect(current).toMatchObject({ pinned: true, split: { v1: 90, v2: 10 } });
    current = apply(current, { type: 'split', weights: { v1: 10, v2: 90 } }).state;
    expect(current).toMatchObject({ pinned: false, live: 'v2', revision: 3 });
  });
});
