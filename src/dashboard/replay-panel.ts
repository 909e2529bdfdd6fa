// The dashboard's Replay action per model: pick a hosted version, run the last day's served
// rows through it (POST /control/replay), show the progress, then the report as
// GET /control/replay/:id gives it. Drawing only; client.ts does the calls.

import { ms, pct, points, pValue, significant } from '../compare/number-format.js';
import type { ReplayView } from '../replay/job-view.js';
import type { ReplayReport } from '../replay/report.js';
import { esc } from './html.js';

/** The window the dashboard replays: the last day, as `npm run replay` does by default. */
export const DASHBOARD_REPLAY_SINCE = '1d';

export type ReplayState = { job: ReplayView } | { error: string } | 'starting';

/** Per model: the replay last started here, and the version picked in its list. */
export const replayStates = new Map<string, ReplayState>();
export const replayChoices = new Map<string, string>();

export const isFinished = (job: ReplayView) => job.status !== 'queued' && job.status !== 'running';

interface ModelVersions {
  name: string;
  versions: Array<{ version: string }>;
  live: string | null;
}

/** The picked version, else the first hosted one that is not live (else live itself). */
export function chosenCandidate(model: ModelVersions): string | undefined {
  const hosted = model.versions.map((v) => v.version);
  const picked = replayChoices.get(model.name);
  if (picked && hosted.includes(picked)) return picked;
  return hosted.find((v) => v !== model.live) ?? hosted[0];
}

function matrixTable(report: ReplayReport): string {
  const matrix = report.agreement?.matrix;
  if (!matrix || matrix.served.length === 0) return '';
  const head = matrix.candidate.map((c) => `<th>${esc(c)}</th>`).join('');
  const rows = matrix.served.map((served, i) => {
    const cells = (matrix.counts[i] ?? [])
      .map(
        (n, j) =>
          `<td data-served="${esc(served)}" data-candidate="${esc(matrix.candidate[j])}">${n}</td>`,
      )
      .join('');
    return `<tr><th>${esc(served)}</th>${cells}</tr>`;
  });
  return `<table class="confusion"><thead><tr><th>served ↓ · candidate →</th>${head}</tr></thead>
    <tbody>${rows.join('')}</tbody></table>`;
}

function figures(job: ReplayView, report: ReplayReport): string {
  const lines: string[] = [];
  const { agreement, difference, feedback, latencyUs, rows } = report;
  lines.push(
    `<li data-field="replay-rows">${rows.read} served rows: ${rows.replayed} replayed, ${rows.failed} failed, ${rows.skipped} skipped (served with an error)</li>`,
  );
  if (agreement) {
    lines.push(
      `<li data-field="replay-agreement">${esc(job.candidate)} agrees with the served version on ${pct(agreement.rate)} (${agreement.agreed} of ${agreement.rows})</li>`,
    );
  }
  if (difference?.meanAbsolute != null) {
    lines.push(
      `<li data-field="replay-difference">mean |${esc(job.candidate)} − served| ${significant(difference.meanAbsolute)}, relative ${pct(difference.meanRelative)}</li>`,
    );
  }
  if (feedback && 'servedOnly' in feedback) {
    const d = feedback.difference;
    lines.push(
      `<li data-field="replay-feedback">on ${feedback.rows} rows with feedback: served ${pct(feedback.servedAccuracy)}, ${esc(job.candidate)} ${pct(feedback.candidateAccuracy)}${d ? ` (${points(d.estimate)} points, 95% CI ${points(d.low)} to ${points(d.high)})` : ''}, McNemar p = ${pValue(feedback.pValue)}</li>`,
    );
  } else if (feedback) {
    lines.push(
      `<li data-field="replay-feedback">on ${feedback.rows} rows with feedback: MAE served ${feedback.served.mae === null ? '–' : significant(feedback.served.mae)}, ${esc(job.candidate)} ${feedback.candidate.mae === null ? '–' : significant(feedback.candidate.mae)}</li>`,
    );
  }
  if (latencyUs) {
    lines.push(
      `<li data-field="replay-latency">${esc(job.candidate)} per row: p50 ${ms(latencyUs.p50 / 1000)} ms, p99 ${ms(latencyUs.p99 / 1000)} ms</li>`,
    );
  }
  for (const [why, n] of Object.entries(report.failures)) {
    lines.push(`<li class="error" data-field="replay-failure">${n} failed: ${esc(why)}</li>`);
  }
  return `<ul class="replay-figures">${lines.join('')}</ul>${matrixTable(report)}`;
}

function statusLine(job: ReplayView): string {
  const { rows, total } = job.progress;
  const done = total ? ` of ${total}` : '';
  if (!isFinished(job)) {
    const bar = total ? `<progress value="${rows}" max="${total}"></progress> ` : '';
    return `<p data-field="replay-status">${bar}${esc(job.status)}: ${rows}${done} rows</p>`;
  }
  const error = job.error ? `: <span class="error">${esc(job.error)}</span>` : '';
  return `<p data-field="replay-status">${esc(job.status)}, ${rows}${done} rows${error}</p>`;
}

/** The Replay control and, once started here, its progress or report. */
export function replaySection(model: ModelVersions, canAct: boolean): string {
  const state = replayStates.get(model.name);
  const chosen = chosenCandidate(model);
  const options = model.versions
    .map(
      ({ version }) =>
        `<option value="${esc(version)}"${version === chosen ? ' selected' : ''}>${esc(version)}${version === model.live ? ' (live)' : ''}</option>`,
    )
    .join('');
  const running = state === 'starting' || (state && 'job' in state && !isFinished(state.job));
  const off = !canAct
    ? ' disabled title="paste the control token first"'
    : running
      ? ' disabled'
      : '';
  const control = `<label>Replay the last day’s served rows through
    <select data-replay-candidate="${esc(model.name)}">${options}</select></label>
    <button type="button" data-replay="${esc(model.name)}"${off}>Replay</button>`;
  let body = '';
  if (state === 'starting') body = '<p class="muted" data-field="replay-status">starting…</p>';
  else if (state && 'error' in state) body = `<p class="error">${esc(state.error)}</p>`;
  else if (state) {
    body = statusLine(state.job) + (state.job.report ? figures(state.job, state.job.report) : '');
  }
  return `<div class="replay" data-field="replay">${control}${body}</div>`;
}
