import type { CompareReport } from './report.js';

const pct = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`;
const ms = (x: number | null) => (x === null ? '–' : x < 1 ? x.toFixed(3) : x.toFixed(2));
const pValue = (p: number) => (p < 0.0001 ? p.toExponential(1) : p.toFixed(4));

function table(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, col) =>
          col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The report as a person reads it on a terminal: one table, then findings in words. */
export function formatCompareReport(report: CompareReport): string {
  const since =
    report.window.since === null
      ? 'the start of the log'
      : new Date(report.window.since).toISOString();
  const lines = [`${report.model}: ${since} → ${new Date(report.window.until).toISOString()}`, ''];
  if (report.versions.length === 0) return `${lines.join('\n')}no predictions in this window\n`;

  const labels = [...new Set(report.versions.flatMap((v) => Object.keys(v.labels)))].sort();
  lines.push(
    table([
      [
        'version',
        'requests',
        'share',
        'errors',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'accuracy (95% CI)',
        'feedback',
      ],
      ...report.versions.map((v) => [
        v.version,
        String(v.requests),
        pct(v.share),
        pct(v.errorRate, 2),
        ms(v.latencyMs.p50),
        ms(v.latencyMs.p95),
        ms(v.latencyMs.p99),
        v.accuracy
          ? `${pct(v.accuracy.estimate)} (${pct(v.accuracy.low)}–${pct(v.accuracy.high)})`
          : '–',
        String(v.accuracy?.n ?? 0),
      ]),
    ]),
    '',
    'label distribution',
    table([
      ['version', ...labels],
      ...report.versions.map((v) => {
        const ok = Object.values(v.labels).reduce((a, b) => a + b, 0);
        return [v.version, ...labels.map((l) => pct(ok === 0 ? null : (v.labels[l] ?? 0) / ok))];
      }),
    ]),
    '',
  );

  for (const comparison of report.accuracy) {
    const { test } = comparison;
    if (!test) {
      lines.push(
        `accuracy ${comparison.candidate} vs ${comparison.baseline}: not testable (no variance)`,
      );
      continue;
    }
    const direction = test.difference >= 0 ? 'higher' : 'lower';
    const verdict = comparison.significant
      ? `significant (p = ${pValue(test.pValue)} < 0.05)`
      : `not significant (p = ${pValue(test.pValue)})`;
    const points = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
    lines.push(
      `accuracy: ${comparison.candidate} is ${(Math.abs(test.difference) * 100).toFixed(1)} points ${direction} than ${comparison.baseline} ` +
        `(95% CI ${points(test.low)} to ${points(test.high)} points), ${verdict}`,
    );
  }
  if (report.accuracy.length === 0) lines.push('accuracy: needs feedback on at least two versions');

  const srm = report.sampleRatio?.test;
  if (report.sampleRatio && srm) {
    const observed = Object.entries(report.sampleRatio.observed)
      .map(([v, n]) => `${v} ${n}`)
      .join(', ');
    const expected = Object.entries(report.sampleRatio.expected)
      .map(([v, w]) => `${v} ${w}`)
      .join(' : ');
    lines.push(
      srm.mismatch
        ? `SAMPLE RATIO MISMATCH: observed ${observed} against ${expected} (chi² = ${srm.chiSquare.toFixed(1)}, p = ${pValue(srm.pValue)} < ${srm.threshold}); do not trust the comparison until the cause is found`
        : `sample ratio: observed ${observed} fits the split ${expected} (p = ${pValue(srm.pValue)})`,
    );
  } else {
    lines.push(`sample ratio: not tested (${report.sampleRatioNote ?? 'no split'})`);
  }
  for (const pair of report.shadow) {
    lines.push(
      `shadow: ${pair.shadow} agrees with ${pair.served} on ${pct(pair.agreement?.estimate)} of ${pair.pairs} mirrored requests ` +
        `(95% CI ${pct(pair.agreement?.low)}–${pct(pair.agreement?.high)})`,
    );
  }
  return `${lines.join('\n')}\n`;
}
