/**
 * Unleash's variant choice: hash the sticky key into 1..total and walk the
 * variants in order. Same key, same variants, same order ⇒ same variant.
 */
import { normalizedValue, VARIANT_SEED } from './sticky-hash.js';
import type { VariantWeight } from './weights.js';

/**
 * The variant for this key, or undefined when the weights total 0 (Unleash
 * then serves no variant). Without a sticky key the bucket is drawn from
 * `random` (in [0, 1)) instead, as Unleash does for a context with no id; an
 * empty key counts as none, as Unleash skips empty context fields.
 */
export function selectVariant(
  variants: readonly VariantWeight[],
  groupId: string,
  stickyKey: string | undefined,
  random: () => number,
): string | undefined {
  const total = variants.reduce((sum, variant) => sum + variant.weight, 0);
  if (total <= 0) return undefined;
  const target =
    stickyKey === undefined || stickyKey === ''
      ? Math.floor(random() * total) + 1
      : normalizedValue(stickyKey, groupId, total, VARIANT_SEED);
  let cumulative = 0;
  for (const variant of variants) {
    cumulative += variant.weight;
    if (cumulative >= target) return variant.name;
  }
  return undefined;
}
