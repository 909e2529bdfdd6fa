/**
 * The @unleash/client-specification vectors, answered by our hashing and variant
 * selection. The spec is what every Unleash SDK must agree on, so passing it means
 * a local split buckets users exactly as an Unleash flag would. Features using
 * what modelgate does not implement (constraints, segments, dependencies, custom
 * stickiness, variant overrides, other strategies) are filtered out, not skipped.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizedValue, STRATEGY_SEED } from '../src/gateway/sticky-hash.js';
import { selectVariant } from '../src/gateway/variant-selection.js';

interface SpecVariant {
  name: string;
  weight: number;
  stickiness?: string;
  overrides?: unknown[];
}

interface SpecStrategy {
  name: string;
  parameters?: Record<string, string>;
  constraints?: unknown[];
  segments?: unknown[];
  variants?: SpecVariant[];
}

interface SpecFeature {
  name: string;
  enabled: boolean;
  strategies?: SpecStrategy[];
  variants?: SpecVariant[];
  dependencies?: unknown[];
}

interface SpecContext {
  userId?: string;
  sessionId?: string;
  remoteAddress?: string;
}

interface ToggleCase {
  description: string;
  context: SpecContext;
  toggleName: string;
  expectedResult: boolean;
}

interface VariantCase {
  description: string;
  context: SpecContext;
  toggleName: string;
  expectedResult: { name: string };
}

interface SpecFile {
  name: string;
  state?: { features?: SpecFeature[]; segments?: unknown[] };
  tests?: ToggleCase[];
  variantTests?: VariantCase[];
}

const specDir = join(
  dirname(createRequire(import.meta.url).resolve('@unleash/client-specification/package.json')),
  'specifications',
);
const readSpec = <T>(file: string): T => JSON.parse(readFileSync(join(specDir, file), 'utf8')) as T;
const specFiles = readSpec<string[]>('index.json').map((file) => readSpec<SpecFile>(file));

const ROLLOUT_STRATEGIES = new Set([
  'default',
  'flexibleRollout',
  'gradualRolloutUserId',
  'gradualRolloutSessionId',
]);
const STICKINESS = new Set(['default', 'userId', 'sessionId']);

const isEmpty = (list: unknown[] | undefined): boolean => list === undefined || list.length === 0;

function variantsSupported(variants: SpecVariant[] | undefined): boolean {
  return (variants ?? []).every(
    (v) => isEmpty(v.overrides) && (v.stickiness === undefined || STICKINESS.has(v.stickiness)),
  );
}

function featureSupported(feature: SpecFeature): boolean {
  return (
    isEmpty(feature.dependencies) &&
    variantsSupported(feature.variants) &&
    (feature.strategies ?? []).every(
      (s) =>
        ROLLOUT_STRATEGIES.has(s.name) &&
        isEmpty(s.constraints) &&
        isEmpty(s.segments) &&
        STICKINESS.has(s.parameters?.stickiness ?? 'default') &&
        variantsSupported(s.variants),
    )
  );
}

/** The context value Unleash hashes for this stickiness; undefined means none. */
function stickyValue(context: SpecContext, stickiness: string): string | undefined {
  const value =
    stickiness === 'default'
      ? context.userId || context.sessionId || context.remoteAddress
      : context[stickiness as 'userId' | 'sessionId'];
  return value === '' ? undefined : value;
}

/**
 * Whether a rollout strategy is on for this context. Unleash hashes a random
 * value when `default` stickiness finds no id; `random` stands in for it.
 */
function strategyOn(
  strategy: SpecStrategy,
  feature: SpecFeature,
  context: SpecContext,
  random: () => number,
): boolean {
  const params = strategy.parameters ?? {};
  const inRollout = (key: string | undefined, groupId: string, percentage: number): boolean => {
    if (!(percentage > 0)) return false;
    const bucket =
      key === undefined
        ? Math.floor(random() * 100) + 1
        : normalizedValue(key, groupId, 100, STRATEGY_SEED);
    return bucket <= percentage;
  };
  switch (strategy.name) {
    case 'default':
      return true;
    case 'flexibleRollout': {
      const stickiness = params.stickiness ?? 'default';
      // Flexible rollout's default stickiness stops at sessionId (no remoteAddress).
      const key =
        stickiness === 'default'
          ? context.userId || context.sessionId || undefined
          : stickyValue(context, stickiness);
      if (key === undefined && stickiness !== 'default') return false;
      return inRollout(key, params.groupId || feature.name, Number(params.rollout));
    }
    case 'gradualRolloutUserId':
      if (!context.userId) return false;
      return inRollout(context.userId, params.groupId ?? '', Number(params.percentage));
    case 'gradualRolloutSessionId':
      if (!context.sessionId) return false;
      return inRollout(context.sessionId, params.groupId ?? '', Number(params.percentage));
    default:
      throw new Error(`unsupported strategy ${strategy.name}`);
  }
}

/** The first strategy that is on, or null when the feature is off for this context. */
function evaluate(
  feature: SpecFeature,
  context: SpecContext,
  random: () => number,
): { strategy?: SpecStrategy } | null {
  if (!feature.enabled) return null;
  const strategies = feature.strategies ?? [];
  if (strategies.length === 0) return {};
  const strategy = strategies.find((s) => strategyOn(s, feature, context, random));
  return strategy ? { strategy } : null;
}

function isEnabled(feature: SpecFeature | undefined, context: SpecContext, random: () => number) {
  return feature !== undefined && evaluate(feature, context, random) !== null;
}

function variantName(
  feature: SpecFeature | undefined,
  context: SpecContext,
  random: () => number,
): string {
  if (feature === undefined) return 'disabled';
  const on = evaluate(feature, context, random);
  if (on === null) return 'disabled';
  const strategyVariants = on.strategy?.variants ?? [];
  if (on.strategy && strategyVariants.length > 0) {
    // Strategy variants hash on the strategy's groupId and inherit its stickiness.
    const stickiness =
      strategyVariants[0]?.stickiness ?? on.strategy.parameters?.stickiness ?? 'default';
    const groupId = on.strategy.parameters?.groupId ?? feature.name;
    const chosen = selectVariant(
      strategyVariants,
      groupId,
      stickyValue(context, stickiness),
      random,
    );
    if (chosen !== undefined) return chosen;
  }
  // Feature variants hash on the feature name.
  const variants = feature.variants ?? [];
  const stickiness = variants[0]?.stickiness ?? 'default';
  return (
    selectVariant(variants, feature.name, stickyValue(context, stickiness), random) ?? 'disabled'
  );
}

// A case only passes if it holds for the lowest and the highest random draw,
// so no expectation can be met by luck of the draw.
const DRAWS: ReadonlyArray<() => number> = [() => 0, () => 0.999999];

interface Runnable<T> {
  file: string;
  test: T;
  feature: SpecFeature | undefined;
}

function runnable<T extends { toggleName: string }>(pick: (file: SpecFile) => T[] | undefined) {
  const cases: Runnable<T>[] = [];
  for (const file of specFiles) {
    const features = file.state?.features;
    // Delta-API files have no plain feature state; segments mean constraints we do not evaluate.
    if (features === undefined || !isEmpty(file.state?.segments)) continue;
    for (const test of pick(file) ?? []) {
      const feature = features.find((f) => f.name === test.toggleName);
      if (feature === undefined || featureSupported(feature)) {
        cases.push({ file: file.name, test, feature });
      }
    }
  }
  return cases;
}

const toggleCases = runnable((file) => file.tests);
const variantCases = runnable((file) => file.variantTests);
// Cases that reach the hash: a present feature with a percentage rollout or variants.
const hashedToggleCases = toggleCases.filter((c) =>
  c.feature?.strategies?.some((s) => s.name !== 'default'),
);
const hashedVariantCases = variantCases.filter(
  (c) =>
    (c.feature?.variants?.length ?? 0) > 1 ||
    c.feature?.strategies?.some((s) => (s.variants?.length ?? 0) > 1),
);

describe('client-specification coverage', () => {
  it('runs enough cases to mean something', () => {
    expect(toggleCases.length).toBeGreaterThanOrEqual(25);
    expect(hashedToggleCases.length).toBeGreaterThanOrEqual(20);
    expect(variantCases.length).toBeGreaterThanOrEqual(18);
    expect(hashedVariantCases.length).toBeGreaterThanOrEqual(8);
  });

  it('covers the rollout, flexible rollout, variant and strategy-variant files', () => {
    const files = new Set([...toggleCases, ...variantCases].map((c) => c.file));
    for (const name of [
      '03-gradual-rollout-user-id-strategy',
      '04-gradual-rollout-session-id-strategy',
      '08-variants',
      '10-flexible-rollout-strategy',
      '16-strategy-variants',
    ]) {
      expect(files).toContain(name);
    }
  });
});

describe.each(specFiles.map((f) => f.name).filter((n) => toggleCases.some((c) => c.file === n)))(
  '%s (isEnabled)',
  (file) => {
    const cases = toggleCases.filter((c) => c.file === file);
    it.each(cases.map((c) => [c.test.description, c] as const))('%s', (_, { test, feature }) => {
      for (const random of DRAWS) {
        expect(isEnabled(feature, test.context, random)).toBe(test.expectedResult);
      }
    });
  },
);

describe.each(specFiles.map((f) => f.name).filter((n) => variantCases.some((c) => c.file === n)))(
  '%s (getVariant)',
  (file) => {
    const cases = variantCases.filter((c) => c.file === file);
    it.each(cases.map((c) => [c.test.description, c] as const))('%s', (_, { test, feature }) => {
      for (const random of DRAWS) {
        expect(variantName(feature, test.context, random)).toBe(test.expectedResult.name);
      }
    });
  },
);
