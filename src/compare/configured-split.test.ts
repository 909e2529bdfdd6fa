import { describe, expect, it } from 'vitest';
import type { DeploymentState } from '../db/deployment-state.js';
import { configuredSplitOf } from './report.js';

const state = (over: Partial<DeploymentState>): DeploymentState => ({
  model: 'iris',
  live: 'v1',
  standby: 'v2',
  history: [],
  split: { v1: 90, v2: 10 },
  source: 'local',
  pinned: false,
  shadow: null,
  hosted: {},
  revision: 3,
  ...over,
});

describe('configuredSplitOf', () => {
  it('takes a local split from the deployment', () => {
    expect(configuredSplitOf(state({ pinned: true }), { v1: 1, v2: 1 })).toEqual({
      source: 'local',
      weights: { v1: 90, v2: 10 },
      pinned: true,
    });
  });

  it('takes an Unleash split from the flag, unknown where the flag is not read', () => {
    const unleash = state({ source: 'unleash' });
    expect(configuredSplitOf(unleash, { v1: 500, v2: 500 }).weights).toEqual({ v1: 500, v2: 500 });
    expect(configuredSplitOf(unleash, null)).toEqual({
      source: 'unleash',
      weights: null,
      pinned: false,
    });
  });
});
