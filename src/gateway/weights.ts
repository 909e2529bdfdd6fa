/**
 * Local split weights: validated as the user gave them, then scaled to the
 * per-mille scale Unleash variants use, so a local split and an Unleash flag
 * with the same shares bucket users identically.
 */

export interface VariantWeight {
  name: string;
  weight: number;
}

/** Unleash's variant weight scale: weights of a flag's variants total 1000. */
export const PER_MILLE = 1000;

/**
 * Scale relative integer weights to total exactly 1000 by largest remainder, in
 * the order Unleash's server serves a strategy's variants: sorted by name with
 * `localeCompare`. Order decides who lands where, so sorting here keeps a local
 * split and the same flag in Unleash identical whatever order either was typed
 * in (and makes JavaScript's integer-like key ordering irrelevant). Ties in the
 * remainder go to the earlier entry; a zero weight stays in the list as 0.
 * Returns all zeros when the total is 0.
 */
export function toPerMille(weights: Record<string, number>): VariantWeight[] {
  const entries = Object.entries(weights).sort(([a], [b]) => a.localeCompare(b));
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  if (total <= 0) return entries.map(([name]) => ({ name, weight: 0 }));

  const scaled = entries.map(([name, weight], index) => {
    // Integer numerator keeps the floor exact; floats would misplace ties.
    const numerator = weight * PER_MILLE;
    return {
      name,
      index,
      weight: Math.floor(numerator / total),
      remainder: numerator % total,
    };
  });
  const missing = PER_MILLE - scaled.reduce((sum, entry) => sum + entry.weight, 0);
  // The remainders add up to `missing` wholes and each is under one whole, so at
  // least `missing` entries have one: a zero weight (remainder 0) never gains a share.
  const byRemainder = [...scaled].sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const entry of byRemainder.slice(0, missing)) entry.weight += 1;
  return scaled.map(({ name, weight }) => ({ name, weight }));
}
