/**
 * Seeded random draws for the simulation: uniform (mulberry32), normal (Box–Muller),
 * binomial and chi-square. Counts are drawn per interval, not row by row.
 */
export interface Random {
  uniform(): number;
  normal(): number;
  /** Binomial(n, p): exact by CDF inversion when n·min(p, 1 − p) ≤ 40, else normal (continuity-corrected). */
  binomial(n: number, p: number): number;
  /** χ² with k degrees of freedom (Marsaglia–Tsang gamma), k > 0. */
  chiSquare(k: number): number;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    // (0, 1): never 0, so logs are finite.
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  let spare: number | null = null;
  const normal = () => {
    if (spare !== null) {
      const x = spare;
      spare = null;
      return x;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = r * Math.sin(angle);
    return r * Math.cos(angle);
  };
  /** Events of probability p ≤ ½ in n trials, by inverting the CDF from 0: O(n·p) steps. */
  const rareEvents = (n: number, p: number) => {
    const ratio = p / (1 - p);
    let pmf = (1 - p) ** n;
    let cdf = pmf;
    const u = uniform();
    let k = 0;
    while (u > cdf && k < n) {
      pmf *= ((n - k) / (k + 1)) * ratio;
      cdf += pmf;
      k += 1;
    }
    return k;
  };
  const binomial = (n: number, p: number) => {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    const small = Math.min(p, 1 - p);
    let k: number;
    if (n * small <= 40) k = rareEvents(n, small);
    else {
      const draw = Math.round(n * small + Math.sqrt(n * small * (1 - small)) * normal());
      k = Math.min(n, Math.max(0, draw));
    }
    return p <= 0.5 ? k : n - k;
  };
  const gamma = (shape: number): number => {
    if (shape < 1) return gamma(shape + 1) * uniform() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = normal();
      const v0 = 1 + c * x;
      if (v0 <= 0) continue;
      const v = v0 * v0 * v0;
      const u = uniform();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  return { uniform, normal, binomial, chiSquare: (k) => 2 * gamma(k / 2) };
}
