import { table } from '../compare/format.js';
import { pct, points, pValue, significant } from '../compare/number-format.js';
import type { ReplayView } from './job-view.js';
import type { LabelFeedback, ReplayReport, ValueFeedback } from './report.js';

const iso = (ms: number) => new Date(ms).toISOString();
const us = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${Math.round(x)} µs`);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${significant(x)}`;

function header(job: ReplayView): string[] {
  const limit = job.window.limit === null ? '' : ` (at most ${job.window.limit} rows)`;
  const rate = job.rate.rowsPerS === null ? '–' : job.rate.rowsPerS.toFixed(0);
  const lines = [
    `replay ${job.id}: ${job.model}, candidate ${job.candidate} on served rows ${iso(job.window.since)} → ${iso(job.window.until)}${limit}`,
    `${job.status}; ${job.progress.rows} rows in ${(((job.finishedAt ?? job.startedAt ?? 0) - (job.startedAt ?? 0)) / 1000).toFixed(1)} s, ${rate} rows/s (bound ${job.rate.maxRowsPerS})`,
  ];
  if (job.error) lines.push(`error: ${job.error}`);
  return lines;
}

function labelSection(report: ReplayReport): string[] {
  const agreement = report.agreement;
  if (!agreement) return [];
  const { matrix } = agreement;
  return [
    `agreement with the served version: ${pct(agreement.rate)} (${agreement.agreed} of ${agreement.rows} rows)`,
    table([
      ['served \\ candidate', ...matrix.candidate],
      ...matrix.served.map((label, i) => [label, ...(matrix.counts[i] ?? []).map(String)]),
    ]),
  ];
}

function valueSection(report: ReplayReport): string[] {
  const d = report.difference;
  if (!d) return [];
  const q = d.quantiles;
  return [
    `candidate − served on ${d.rows} rows: mean |difference| ${d.meanAbsolute === null ? '–' : significant(d.meanAbsolute)}, mean relative ${pct(d.meanRelative)} (${d.relativeRows} rows served ≠ 0)`,
    q ? `  p5 ${signed(q.p5)}, p50 ${signed(q.p50)}, p95 ${signed(q.p95)}` : '  no rows',
  ];
}

function labelFeedbackSection(f: LabelFeedback): string[] {
  const d = f.difference;
  return [
    `on ${f.rows} rows with feedback: served ${pct(f.servedAccuracy)} right, candidate ${pct(f.candidateAccuracy)}`,
    `  candidate − served ${d ? `${points(d.estimate)} points (95% CI ${points(d.low)} to ${points(d.high)})` : '–'}; McNemar exact p = ${pValue(f.pValue)} (${f.servedOnly} rows only the served version got right, ${f.candidateOnly} only the candidate)`,
  ];
}

function valueFeedbackSection(f: ValueFeedback): string[] {
  const figure = (x: number | null) => (x === null ? '–' : significant(x));
  const interval = (i: { estimate: number; low: number; high: number } | null) =>
    i ? `${signed(i.estimate)} (95% CI ${signed(i.low)} to ${signed(i.high)})` : '–';
  return [
    `on ${f.rows} rows with feedback:`,
    table([
      ['', 'MAE', 'RMSE'],
      ['served', figure(f.served.mae), figure(f.served.rmse)],
      ['candidate', figure(f.candidate.mae), figure(f.candidate.rmse)],
    ]),
    `  candidate − served: MAE ${interval(f.maeDifference)}, MSE ${interval(f.mseDifference)}`,
  ];
}

/** `npm run replay`'s printed report: the job, then the figures, as `npm run compare` prints. */
export function formatReplay(job: ReplayView): string {
  const lines = header(job);
  const report = job.report;
  if (!report) return `${lines.join('\n')}\n`;
  const { rows } = report;
  lines.push(
    `${rows.read} served rows read: ${rows.replayed} replayed, ${rows.failed} failed, ${rows.skipped} skipped (served with an error)`,
    '',
    ...labelSection(report),
    ...valueSection(report),
  );
  if (report.feedback) {
    lines.push(
      '',
      ...('servedOnly' in report.feedback
        ? labelFeedbackSection(report.feedback)
        : valueFeedbackSection(report.feedback)),
    );
  } else {
    lines.push('', 'no rows with feedback: no accuracy to compare');
  }
  const l = report.latencyUs;
  if (l)
    lines.push('', `candidate time per row: p50 ${us(l.p50)}, p95 ${us(l.p95)}, p99 ${us(l.p99)}`);
  const failures = Object.entries(report.failures);
  if (failures.length > 0) {
    lines.push('', 'failed rows by reason:', table(failures.map(([why, n]) => [String(n), why])));
  }
  return `${lines.join('\n')}\n`;
}
