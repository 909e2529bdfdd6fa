/**
 * How modelgate writes its figures, the same on the terminal (`npm run compare`) and on
 * the dashboard, which bundles this module into its browser script. Pure; no Node or
 * DOM APIs, so both type-check it.
 */

/** A fraction as a percentage: 0.1234 → `12.3%`; `–` when there is none. */
export const pct = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`;

/** Milliseconds: three decimals under 1 ms, two above; `–` when there is none. */
export const ms = (x: number | null | undefined): string =>
  x === null || x === undefined ? '–' : x < 1 ? x.toFixed(3) : x.toFixed(2);

/** A p-value: exponent notation under 0.0001, where four decimals would read 0.0000. */
export const pValue = (p: number): string => (p < 0.0001 ? p.toExponential(1) : p.toFixed(4));

/** A difference of fractions in percentage points, signed: 0.034 → `+3.4`. */
export const points = (x: number, digits = 1): string =>
  `${x >= 0 ? '+' : ''}${(x * 100).toFixed(digits)}`;

/** A split's weights: `v1 90 : v2 10`. */
export const weights = (w: Record<string, number>): string =>
  Object.entries(w)
    .map(([version, weight]) => `${version} ${weight}`)
    .join(' : ');

/** Counts per version: `v1 903, v2 97`. */
export const counts = (c: Record<string, number>): string =>
  Object.entries(c)
    .map(([version, n]) => `${version} ${n}`)
    .join(', ');

/** A population stability index: three decimals (0.2 is the usual flag). */
export const psi = (x: number): string => x.toFixed(3);

/** A value as people read it: 4 significant digits, no exponent for everyday sizes. */
export const significant = (x: number): string =>
  Math.abs(x) >= 1e-3 && Math.abs(x) < 1e7 ? String(Number(x.toPrecision(4))) : x.toPrecision(4);
