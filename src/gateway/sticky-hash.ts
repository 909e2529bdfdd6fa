/**
 * Unleash's sticky bucketing, reproduced so a local split puts every user on the
 * same version an Unleash flag with the same variants would. unleash-client uses
 * the murmurhash3js package; using the same package (not a UTF-8-correct murmur)
 * keeps non-ASCII keys in the same bucket too, since it hashes only the low byte
 * of each UTF-16 code unit.
 */
import murmurhash3js from 'murmurhash3js';

/** Seed Unleash uses for rollout percentages (bucket 1–100). */
export const STRATEGY_SEED = 0;

/** Seed Unleash uses for variant selection, so variants are independent of rollout. */
export const VARIANT_SEED = 86028157;

/**
 * Bucket of `id` within `groupId`: 1..normalizer. Reordering nothing here: the
 * string is `${groupId}:${id}`, exactly as Unleash builds it, or users reshuffle.
 */
export function normalizedValue(id: string, groupId: string, normalizer = 100, seed = 0): number {
  const hash = murmurhash3js.x86.hash32(`${groupId}:${id}`, seed);
  return (hash % normalizer) + 1;
}
