import type { DriftReport } from './drift-report.js';
import { table } from './format.js';
import { psi, pValue } from './number-format.js';

const when = (ms: number) => new Date(ms).toISOString();

/** The drift part of `npm run compare -- --baseline …`: one table per version. */
export function formatDrift(drift: DriftReport): string {
  const { baseline } = drift;
  const lines = [
    baseline.kind === 'training'
      ? `drift against training statistics (model.json featureStats), flagged above PSI ${drift.psiThreshold}`
      : `drift against ${when(baseline.since)} → ${when(baseline.until)} (${baseline.rows} rows), flagged above PSI ${drift.psiThreshold}`,
  ];
  for (const version of drift.versions) {
    const flagged =
      version.flagged.length > 0 ? `FLAGGED: ${version.flagged.join(', ')}` : 'nothing flagged';
    lines.push('', `${version.version} (${version.rows} rows): ${flagged}`);
    if (version.features.length > 0) {
      lines.push(
        table([
          ['feature', 'PSI', 'KS D', 'KS p', 'rows', 'baseline rows', ''],
          ...version.features.map((f) => [
            f.feature,
            psi(f.psi),
            f.ks.statistic.toFixed(3),
            pValue(f.ks.pValue),
            String(f.rows),
            String(f.baselineRows),
            f.flagged ? 'DRIFT' : '',
          ]),
        ]),
      );
    }
    const prediction = version.prediction;
    const drifted = prediction?.flagged ? '  DRIFT' : '';
    if (prediction?.kind === 'label') {
      const test = prediction.chiSquare;
      lines.push(
        `label mix: PSI ${psi(prediction.psi)}${test ? `, chi² = ${test.statistic.toFixed(1)} (df ${test.degreesOfFreedom}), p = ${pValue(test.pValue)}` : ''}${drifted}`,
      );
    } else if (prediction?.kind === 'value') {
      lines.push(
        `predicted value: PSI ${psi(prediction.psi)}, KS D = ${prediction.ks.statistic.toFixed(3)}, p = ${pValue(prediction.ks.pValue)} (${prediction.rows} values, baseline ${prediction.baselineRows})${drifted}`,
      );
    }
    if (version.note) lines.push(`note: ${version.note}`);
  }
  return `${lines.join('\n')}\n`;
}
