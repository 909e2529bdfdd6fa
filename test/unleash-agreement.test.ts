/**
 * A local split and an Unleash flag with the same shares must put every user on
 * the same version: compare our selectVariant with unleash-client's own
 * getVariant on 10,000 keys, for flag variants set on the strategy (what the
 * Unleash UI writes today) and on the feature (the older form).
 */
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom as seededRandom } from '../scripts/examples/prng.js';
import { flagName } from '../src/gateway/routing.js';
import { selectVariant } from '../src/gateway/variant-selection.js';
import { toPerMille, type VariantWeight } from '../src/gateway/weights.js';

const FLAG = flagName('modelgate.', 'iris');
const KEY_COUNT = 10_000;

/** Keys shaped like real user ids: numbers, uuid-like hex, emails, and some non-ASCII. */
function makeKeys(count: number, random: () => number): string[] {
  const hex = (length: number) =>
    Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join('');
  const shapes = [
    () => String(Math.floor(random() * 1e9)),
    () => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    () => `user${Math.floor(random() * 1e6)}@example.com`,
    () => `usér-${hex(6)}-ø-你好`,
  ];
  return Array.from({ length: count }, (_, i) => (shapes[i % shapes.length] as () => string)());
}

const WEIGHT_SETS: Record<string, number>[] = [
  { v1: 90, v2: 10 },
  { v1: 50, v2: 50 },
  { v1: 1, v2: 2, v3: 3 },
];

type VariantsOn = 'strategy' | 'feature';

function flagWith(variants: VariantWeight[], on: VariantsOn) {
  const unleashVariants = variants.map(({ name, weight }) => ({
    name,
    weight,
    weightType: 'fix',
    stickiness: 'default',
  }));
  const strategy = {
    name: 'flexibleRollout',
    parameters: { rollout: '100', stickiness: 'default', groupId: FLAG },
    constraints: [],
    ...(on === 'strategy' ? { variants: unleashVariants } : {}),
  };
  return {
    name: FLAG,
    enabled: true,
    type: 'experiment',
    strategies: [strategy],
    ...(on === 'feature' ? { variants: unleashVariants } : {}),
  };
}

async function offlineClient(feature: ReturnType<typeof flagWith>): Promise<Unleash> {
  const client = new Unleash({
    url: 'http://127.0.0.1:9/api/',
    appName: 'modelgate-agreement-test',
    refreshInterval: 0,
    disableMetrics: true,
    storageProvider: new InMemStorageProvider(),
    // Types want the server's full feature shape; the client only reads these fields.
    bootstrap: { data: [feature as never] },
  });
  // Nothing listens on port 9: an 'error' event without a listener would throw.
  client.on('error', () => {});
  await new Promise<void>((resolve) => {
    if (client.isSynchronized()) resolve();
    else client.once('synchronized', () => resolve());
  });
  return client;
}

const keys = makeKeys(KEY_COUNT, seededRandom(20240601));
const noRandom = (): number => {
  throw new Error('a sticky key must never draw from random');
};

describe.each(['strategy', 'feature'] as const)('variants on the %s', (on) => {
  describe.each(WEIGHT_SETS.map((weights) => [JSON.stringify(weights), weights] as const))(
    'weights %s',
    (_, weights) => {
      const variants = toPerMille(weights);
      let client: Unleash;

      beforeAll(async () => {
        client = await offlineClient(flagWith(variants, on));
      });
      afterAll(() => client?.destroy());

      it(`agrees with getVariant for ${KEY_COUNT} userIds`, () => {
        let disagreements = 0;
        const firstDisagreements: string[] = [];
        for (const key of keys) {
          const theirs = client.getVariant(FLAG, { userId: key });
          const ours = selectVariant(variants, FLAG, key, noRandom);
          if (!theirs.enabled || theirs.name !== ours) {
            disagreements += 1;
            if (firstDisagreements.length < 5) {
              firstDisagreements.push(`${key}: unleash ${theirs.name}, ours ${ours}`);
            }
          }
        }
        expect(firstDisagreements).toEqual([]);
        expect(disagreements).toBe(0);
      });

      it('agrees with getVariant when the key is a sessionId', () => {
        for (const key of keys.slice(0, 2000)) {
          expect(client.getVariant(FLAG, { sessionId: key }).name).toBe(
            selectVariant(variants, FLAG, key, noRandom),
          );
        }
      });

      it('lands within ±2 percentage points of the weights', () => {
        const total = Object.values(weights).reduce((sum, w) => sum + w, 0);
        const counts = new Map<string, number>();
        for (const key of keys) {
          const version = selectVariant(variants, FLAG, key, noRandom) ?? 'none';
          counts.set(version, (counts.get(version) ?? 0) + 1);
        }
        expect(counts.has('none')).toBe(false);
        for (const [version, weight] of Object.entries(weights)) {
          const share = ((counts.get(version) ?? 0) / KEY_COUNT) * 100;
          expect(Math.abs(share - (weight / total) * 100)).toBeLessThanOrEqual(2);
        }
      });
    },
  );
});
