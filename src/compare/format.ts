import { counts, ms, pct, points, pValue, significant, weights } from './number-format.js';
import { type CompareReport, MIN_DIFFERING_PAIRS } from './report.js';

export function table(rows: string[][]): string {
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

/**
 * A regressor's served values and, with numeric feedback, its MAE and RMSE per version:
 * each with its fixed-horizon interval (valid read once) and its always-valid confidence
 * sequence (valid however often it is read; what the dashboard shows), labelled apart.
 */
function regressionTable(report: CompareReport): string[] {
  const regressors = report.versions.filter((v) => v.task === 'regression');
  if (regressors.length === 0) return [];
  const withRange = (x: number, r: { low: number; high: number } | null) =>
    r ? `${significant(x)} (${significant(r.low)}–${significant(r.high)})` : significant(x);
  const range = (r: { low: number; high: number } | null | undefined) =>
    r ? `${significant(r.low)}–${significant(r.high)}` : '–';
  return [
    'predicted values and errors (regression)',
    table([
      [
        'version',
        'mean',
        'p5',
        'p50',
        'p95',
        'MAE (fixed horizon 95% CI)',
        'always valid 95% CS',
        'RMSE (fixed horizon 95% CI)',
        'always valid 95% CS',
        'feedback',
      ],
      ...regressors.map((v) => [
        v.version,
        v.predicted ? significant(v.predicted.mean) : '–',
        v.predicted ? significant(v.predicted.p5) : '–',
        v.predicted ? significant(v.predicted.p50) : '–',
        v.predicted ? significant(v.predicted.p95) : '–',
        v.error ? withRange(v.error.mae, v.error.maeInterval) : '–',
        range(v.error?.sequential.mae),
        v.error ? withRange(v.error.rmse, v.error.rmseInterval) : '–',
        range(v.error?.sequential.rmse),
        String(v.error?.n ?? 0),
      ]),
    ]),
    '',
  ];
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${significant(x)}`;

/** A regressor's shadow pair on the rows with feedback values: both errors, then the differences. */
function pairedErrorLines(pair: CompareReport['shadow'][number]): string[] {
  const e = pair.pairedError;
  if (!e) return [`  no feedback values on the mirrored rows yet`];
  const difference = (
    name: string,
    estimate: number,
    fixed: { low: number; high: number } | null,
    sequential: { low: number; high: number } | null,
    differing: number,
  ) => {
    if (!sequential) {
      return `${name} ${signed(estimate)} ${e.n < 2 ? '(no interval below two rows)' : '(no interval: every row has shown the same difference)'}`;
    }
    const always = `always valid 95% CS ${signed(sequential.low)} to ${signed(sequential.high)}`;
    return `${name} ${signed(estimate)} (${
      fixed
        ? `fixed horizon 95% CI ${signed(fixed.low)} to ${signed(fixed.high)}`
        : `no fixed horizon CI: ${differing} rows differ, it needs ${MIN_DIFFERING_PAIRS}`
    }; ${always})`;
  };
  return [
    `  on the same ${e.n} rows with feedback values: MAE ${pair.served} ${significant(e.servedMae)}, ${pair.shadow} ${significant(e.shadowMae)}; ` +
      `RMSE ${pair.served} ${significant(e.servedRmse)}, ${pair.shadow} ${significant(e.shadowRmse)}`,
    `  ${pair.shadow} − ${pair.served}: ` +
      `${difference('MAE', e.maeDifference, e.maeDifferenceInterval, e.sequential.maeDifference, e.differing.mae)}, ` +
      `${difference('MSE', e.mseDifference, e.mseDifferenceInterval, e.sequential.mseDifference, e.differing.mse)}; below 0: ${pair.shadow} is closer`,
  ];
}

/** Mean feedback value per version, when any version has values. */
function valueTable(report: CompareReport): string[] {
  if (!report.versions.some((v) => v.value)) return [];
  return [
    table([
      ['version', 'mean value', 'fixed horizon 95% CI', 'always valid 95% CS', 'values'],
      ...report.versions.map((v) => {
        const value = v.value;
        const range = (r: { low: number; high: number } | null) =>
          r ? `${significant(r.low)} to ${significant(r.high)}` : '–';
        return [
          v.version,
          value ? significant(value.mean) : '–',
          range(value?.fixedHorizon ?? null),
          range(value?.sequential ?? null),
          String(value?.n ?? 0),
        ];
      }),
    ]),
    '',
  ];
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
  // Label mix and accuracy are a classifier's figures: a regressor's rows are left out of them.
  const classifiers = report.versions.filter((v) => v.task === 'classification');
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
        v.task === 'regression' ? '–' : String(v.accuracy?.n ?? 0),
      ]),
    ]),
    '',
    ...regressionTable(report),
    ...valueTable(report),
    ...(classifiers.length === 0
      ? []
      : [
          'label distribution',
          table([
            ['version', ...labels],
            ...classifiers.map((v) => {
              const ok = Object.values(v.labels).reduce((a, b) => a + b, 0);
              return [
                v.version,
                ...labels.map((l) => pct(ok === 0 ? null : (v.labels[l] ?? 0) / ok)),
              ];
            }),
          ]),
          '',
        ]),
  );

  for (const comparison of report.accuracy) {
    const { difference, fixedHorizon } = comparison;
    const direction = difference >= 0 ? 'higher' : 'lower';
    const verdict =
      fixedHorizon.pValue === null
        ? 'not testable (no variance)'
        : fixedHorizon.significant
          ? `significant (p = ${pValue(fixedHorizon.pValue)} < 0.05)`
          : `not significant (p = ${pValue(fixedHorizon.pValue)})`;
    lines.push(
      `accuracy: ${comparison.candidate} is ${(Math.abs(difference) * 100).toFixed(1)} points ${direction} than ${comparison.baseline} ` +
        `(fixed horizon: 95% CI ${points(fixedHorizon.low)} to ${points(fixedHorizon.high)} points), ${verdict}`,
      `  always valid: 95% CS ${points(comparison.sequential.low)} to ${points(comparison.sequential.high)} points, p = ${pValue(comparison.sequential.pValue)}`,
    );
  }
  if (report.accuracy.length === 0 && classifiers.length > 0) {
    lines.push('accuracy: needs feedback on at least two versions');
  }
  for (const comparison of report.value) {
    const { fixedHorizon: fixed, sequential } = comparison;
    lines.push(
      `value: ${comparison.candidate} − ${comparison.baseline} = ${signed(comparison.difference)}` +
        (fixed
          ? ` (fixed horizon: 95% CI ${signed(fixed.low)} to ${signed(fixed.high)}, ${fixed.significant ? 'significant' : 'not significant'}, p = ${pValue(fixed.pValue)})`
          : ' (fixed horizon: not testable)'),
      sequential
        ? `  always valid: 95% CS ${signed(sequential.low)} to ${signed(sequential.high)}, p = ${pValue(sequential.pValue)}`
        : '  always valid: needs two values on each version',
    );
  }

  const srm = report.sampleRatio?.test;
  const sequential = report.sampleRatio?.sequential;
  if (report.sampleRatio && srm && sequential) {
    const observed = counts(report.sampleRatio.observed);
    const expected = weights(report.sampleRatio.expected);
    const figures = `chi² = ${srm.chiSquare.toFixed(1)}, p = ${pValue(srm.pValue)}; always valid: p = ${pValue(sequential.pValue)}`;
    lines.push(
      srm.mismatch || sequential.mismatch
        ? `SAMPLE RATIO MISMATCH: observed ${observed} against ${expected} (${figures}; either below ${srm.threshold} flags it); do not trust the comparison until the cause is found`
        : `sample ratio: observed ${observed} fits the split ${expected} (${figures})`,
    );
  } else {
    lines.push(`sample ratio: not tested (${report.sampleRatioNote ?? 'no split'})`);
  }
  for (const pair of report.shadow) {
    if (!pair.agreement) {
      // A regressor's pairs have no labels to agree on: they are judged on feedback values.
      lines.push(
        `shadow: ${pair.shadow} answered ${pair.pairs} mirrored rows of ${pair.served}`,
        ...pairedErrorLines(pair),
      );
      continue;
    }
    lines.push(
      `shadow: ${pair.shadow} agrees with ${pair.served} on ${pct(pair.agreement.estimate)} of ${pair.pairs} mirrored rows ` +
        `(95% CI ${pct(pair.agreement.low)}–${pct(pair.agreement.high)})`,
    );
    const paired = pair.paired;
    if (paired) {
      const d = paired.difference;
      lines.push(
        `  on the same ${paired.n} labelled rows: ${pair.served} ${pct(paired.servedAccuracy)}, ${pair.shadow} ${pct(paired.shadowAccuracy)} accurate; ` +
          `${pair.shadow} − ${pair.served} ${points(d.estimate)} points (95% CI ${points(d.low)} to ${points(d.high)}), ` +
          `McNemar exact p = ${pValue(paired.pValue)}${paired.significant ? ', significant' : ', not significant'}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
