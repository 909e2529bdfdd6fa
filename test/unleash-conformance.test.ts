/**
 * The @unleash/client-specification variant vectors, answered by modelgate's own code:
 * the sticky key as a request gives it (stickyContext) and the variant walk a local split
 * uses (selectVariant). The spec is what every Unleash SDK must agree on, so passing it
 * means a local split buckets users exactly as an Unleash flag would.
 *
 * Only the cases that reach the variant choice with a flag served to everyone are run:
 * whether a flag is on (percentage rollouts, constraints, segments, dependencies) is
 * decided by unleash-client inside modelgate, not by modelgate's code, and is checked
 * against a real Unleash server in unleash-e2e.test.ts. Custom stickiness and variant
 * overrides are not modelgate features.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stickyContext } from '../src/gateway/sticky-context.js';
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

interface VariantCase {
  description: string;
  context: { userId?: string; sessionId?: string; remoteAddress?: string; properties?: unknown };
  toggleName: string;
  expectedResult: { name: string };
}

interface SpecFile {
  name: string;
  state?: { features?: SpecFeature[]; segments?: unknown[] };
  variantTests?: VariantCase[];
}

const specDir = join(
  dirname(createRequire(import.meta.url).resolve('@unleash/client-specification/package.json')),
  'specifications',
);
const readSpec = <T>(file: string): T => JSON.parse(readFileSync(join(specDir, file), 'utf8')) as T;
const specFiles = readSpec<string[]>('index.json').map((file) => readSpec<SpecFile>(file));

const isEmpty = (list: unknown[] | undefined): boolean => list === undefined || list.length === 0;

/** Variants with the stickiness modelgate has (user id, else session id) and no overrides. */
const plainVariants = (variants: SpecVariant[] | undefined): variants is SpecVariant[] =>
  !isEmpty(variants) &&
  (variants ?? []).every(
    (v) => isEmpty(v.overrides) && (v.stickiness === undefined || v.stickiness === 'default'),
  );

/** A strategy on for every context: whether a flag is on is unleash-client's call, not ours. */
const onForEveryone = (s: SpecStrategy): boolean =>
  isEmpty(s.constraints) &&
  isEmpty(s.segments) &&
  (s.name === 'default' ||
    (s.name === 'flexibleRollout' &&
      s.parameters?.rollout === '100' &&
      (s.parameters.stickiness ?? 'default') === 'default'));

interface Runnable {
  file: string;
  test: VariantCase;
  variants: SpecVariant[];
  /** Strategy variants hash on the strategy's groupId, feature variants on the flag's name. */
  groupId: string;
}

function runnable(): Runnable[] {
  const cases: Runnable[] = [];
  for (const file of specFiles) {
    const features = file.state?.features ?? [];
    if (!isEmpty(file.state?.segments)) continue;
    for (const test of file.variantTests ?? []) {
      const feature = features.find((f) => f.name === test.toggleName);
      if (!feature?.enabled || !isEmpty(feature.dependencies)) continue;
      const strategies = feature.strategies ?? [];
      if (!strategies.every(onForEveryone)) continue;
      // The first strategy answers; its variants win over the feature's when it has any.
      const strategy = strategies[0];
      const fromStrategy = !isEmpty(strategy?.variants);
      const variants = fromStrategy ? strategy?.variants : feature.variants;
      if (!plainVariants(variants)) continue;
      const groupId = fromStrategy ? (strategy?.parameters?.groupId ?? feature.name) : feature.name;
      cases.push({ file: file.name, test, variants, groupId });
    }
  }
  return cases;
}

const cases = runnable();
// Cases whose answer depends on the hash: more than one variant with weight.
const hashed = cases.filter((c) => c.variants.filter((v) => v.weight > 0).length > 1);

// A case only passes if it holds for the lowest and the highest random draw,
// so no expectation can be met by luck of the draw.
const DRAWS: ReadonlyArray<() => number> = [() => 0, () => 0.999999];

/** The variant modelgate picks for a request carrying the case's ids. */
function variantFor({ test, variants, groupId }: Runnable, random: () => number) {
  const { userId, sessionId } = stickyContext(undefined, test.context);
  return selectVariant(variants, groupId, userId ?? sessionId, random);
}

describe('client-specification coverage', () => {
  it('runs enough hashed cases from the variant and strategy-variant files to mean something', () => {
    expect(hashed.length).toBeGreaterThanOrEqual(10);
    const files = new Set(hashed.map((c) => c.file));
    expect(files).toContain('08-variants');
    expect(files).toContain('16-strategy-variants');
  });
});

describe.each([...new Set(cases.map((c) => c.file))])('%s (getVariant)', (file) => {
  const inFile = cases.filter((c) => c.file === file);
  it.each(inFile.map((c) => [c.test.description, c] as const))('%s', (_, runnableCase) => {
    for (const random of DRAWS) {
      expect(variantFor(runnableCase, random)).toBe(runnableCase.test.expectedResult.name);
    }
  });
});
