// The modelgate dashboard, in the browser. Type-checked against the DOM and the gateway's
// own response types (tsconfig.dashboard.json), bundled with its one import by esbuild
// into dist/dashboard/client.js at `npm run build`, and served as GET /dashboard.js.
// Every figure shown comes from the gateway's APIs (/models, /compare/:model,
// /control/:model and /dashboard/api/traffic/:model); this script only formats and draws
// them, and refreshes every few seconds.

import type { DriftReport } from '../compare/drift-report.js';
import {
  counts,
  ms,
  pct,
  points,
  psi,
  pValue,
  significant,
  weights,
} from '../compare/number-format.js';
import type { CompareReport } from '../compare/report.js';
import type { DeploymentState } from '../db/deployment-state.js';
import type { StoredDeploymentEvent } from '../db/deployments.js';
import type { RolloutRecord } from '../db/rollouts.js';
import type { ReplayView } from '../replay/job-view.js';
import { esc } from './html.js';
import {
  chosenCandidate,
  DASHBOARD_REPLAY_SINCE,
  isFinished,
  replayChoices,
  replaySection,
  replayStates,
} from './replay-panel.js';
import type { TrafficSeries } from './traffic.js';

/** A model as GET /models describes it (the fields drawn here). */
interface ModelView {
  name: string;
  /** `task` is null for a version that is not loaded here. */
  versions: Array<{ version: string; task?: 'classification' | 'regression' | null }>;
  live: string | null;
  standby: string | null;
  pinned: boolean;
  split: Record<string, number> | null;
  splitSource: 'local' | 'unleash';
  flag: string;
  shadow: { version: string; percent: number } | null;
}

/** GET /control/:model, or why it could not be read. */
type ControlView =
  | {
      deployment: DeploymentState;
      events: StoredDeploymentEvent[];
      rollout: RolloutRecord | null;
      error?: undefined;
    }
  | { error: ApiError };

interface LoadedModel {
  model: ModelView;
  report: CompareReport;
  traffic: TrafficSeries;
  control: ControlView | null;
}

/** A failed API call: the gateway's error message and the HTTP status. */
class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const REFRESH_MS = 3000;
// The current experiment: counts that only grow from the last split change, which the
// always-valid figures assume (a sliding "last hour" would be a new sample at every look).
const WINDOW = 'split';
const TRAFFIC_MINUTES = 60;
const TOKEN_KEY = 'modelgate.controlToken';
const COLORS = ['#2563eb', '#ea580c', '#7c3aed', '#0d9488', '#db2777', '#65a30d'];

// ---- formatting (numbers as `npm run compare` writes them: compare/number-format.ts) ----

const two = (n: number) => String(n).padStart(2, '0');
const hhmm = (t: number) => {
  const d = new Date(t);
  return `${two(d.getHours())}:${two(d.getMinutes())}`;
};
const clock = (t: number) => `${hhmm(t)}:${two(new Date(t).getSeconds())}`;
const dateTime = (t: number) => {
  const d = new Date(t);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clock(t)}`;
};

// ---- the gateway's APIs ----

const getToken = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

/** The gateway's JSON answer, typed as the caller expects it; an ApiError if it is not 2xx. */
async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { cache: 'no-store', ...init });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const message = (body as { error?: { message?: string } } | null)?.error?.message;
    throw new ApiError(message ?? `${res.status} ${res.statusText}`, res.status);
  }
  return body as T;
}

const withToken = (init: RequestInit & { headers?: Record<string, string> } = {}): RequestInit => ({
  ...init,
  headers: { ...init.headers, authorization: `Bearer ${getToken()}` },
});

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function loadModel(model: ModelView): Promise<LoadedModel> {
  const name = encodeURIComponent(model.name);
  const [report, traffic, control] = await Promise.all([
    api<CompareReport>(`/compare/${name}?since=${WINDOW}`),
    api<TrafficSeries>(`/dashboard/api/traffic/${name}?minutes=${TRAFFIC_MINUTES}`),
    getToken()
      ? api<ControlView>(`/control/${name}`, withToken()).catch(
          (error: unknown): ControlView => ({
            error: error instanceof ApiError ? error : new ApiError(messageOf(error), 0),
          }),
        )
      : null,
  ]);
  return { model, report, traffic, control };
}

// ---- drawing ----

/** Hosted versions first, then any version that still has traffic in the window. */
function versionsOf(model: ModelView, report: CompareReport, traffic: TrafficSeries) {
  const names = model.versions.map((v) => v.version);
  for (const v of [...report.versions, ...traffic.versions]) {
    if (!names.includes(v.version)) names.push(v.version);
  }
  return names;
}

function badges(model: ModelView, version: string) {
  const out: string[] = [];
  if (version === model.live) out.push('<span class="badge live">live</span>');
  if (version === model.standby) out.push('<span class="badge standby">standby</span>');
  if (model.shadow?.version === version) out.push('<span class="badge shadow">shadow</span>');
  return out.join(' ');
}

function facts(model: ModelView, report: CompareReport) {
  const split =
    model.splitSource === 'unleash'
      ? report.sampleRatio
        ? weights(report.sampleRatio.expected)
        : 'no variants'
      : model.split
        ? weights(model.split)
        : 'none';
  const routing = model.pinned
    ? '<span class="badge pinned">pinned</span> all traffic to live'
    : model.splitSource === 'unleash'
      ? `by flag ${esc(model.flag)}`
      : model.split
        ? 'by the split'
        : 'all traffic to live';
  const standby = model.standby
    ? `<span class="badge standby" data-field="standby">${esc(model.standby)}</span>`
    : '<span class="muted" data-field="standby">none</span>';
  const shadow = model.shadow ? `${esc(model.shadow.version)} at ${model.shadow.percent}%` : 'off';
  return `<dl class="facts">
    <div><dt>live</dt><dd><span class="badge live" data-field="live">${esc(model.live)}</span></dd></div>
    <div><dt>standby</dt><dd>${standby}</dd></div>
    <div><dt>split</dt><dd data-field="split">${esc(split)}</dd></div>
    <div><dt>source</dt><dd data-field="source">${esc(model.splitSource)}</dd></div>
    <div><dt>routing</dt><dd data-field="routing">${routing}</dd></div>
    <div><dt>shadow</dt><dd data-field="shadow">${shadow}</dd></div>
  </dl>`;
}

function actions(model: ModelView, control: ControlView | null) {
  const disabled = getToken() ? '' : ' disabled title="paste the control token first"';
  const name = esc(model.name);
  const history = control && !control.error ? control.deployment.history : null;
  const previous = history ? history[history.length - 1] : undefined;
  const button = (action: string, label: string, confirm: string, extra = '', off = false) =>
    `<button type="button" data-action="${action}" data-model="${name}"${extra}
      data-confirm="${esc(confirm)}"${off && !disabled ? ' disabled' : disabled}>${esc(label)}</button>`;
  if (!model.standby) {
    return `<div class="actions">${button('rollback', 'Roll back', `Roll ${model.name} back to the previous live version?`, '', history?.length === 0)}</div>`;
  }
  return `<div class="actions">
    ${button(
      'promote',
      `Promote ${model.standby}`,
      `Promote ${model.standby} to live for ${model.name}? ${model.live} becomes standby and all traffic goes to ${model.standby}.`,
      ` data-version="${esc(model.standby)}"`,
    )}
    ${button(
      'rollback',
      previous ? `Roll back to ${previous}` : 'Roll back',
      `Roll ${model.name} back to ${previous ?? 'the previous live version'}? All traffic goes to it.`,
      '',
      history?.length === 0,
    )}
    ${button(
      'flip',
      `Flip ${model.live} ⇄ ${model.standby}`,
      `Flip ${model.name}: ${model.standby} becomes live, ${model.live} standby, and all traffic goes to ${model.standby}?`,
    )}
  </div>`;
}

function srmBanner(report: CompareReport) {
  const srm = report.sampleRatio;
  if (!srm?.sequential?.mismatch) return '';
  const observed = counts(srm.observed);
  return `<p class="srm" role="alert" data-field="srm"><strong>Sample ratio mismatch.</strong>
    Observed ${esc(observed)} since ${esc(dateTime(srm.since))} against the split ${esc(weights(srm.expected))}
    (always-valid p = ${pValue(srm.sequential.pValue)} &lt; ${srm.sequential.alpha}).
    The assignment is broken (a bot, a cache, a client pinning a version): do not trust the
    comparison until the cause is found.</p>`;
}

/** An always-valid 95 % interval as the page shows it. */
const range = (
  r: { low: number; high: number } | null | undefined,
  format: (x: number) => string,
) => (r ? `${format(r.low)}–${format(r.high)}` : '–');

/** A mean value: 4 significant digits, as `npm run compare` writes it. */
const num = significant;

/**
 * A regressor has no labels: its table shows predicted values and errors instead of
 * accuracy, and the label-based findings are left out (not shown as zeros).
 */
const isRegressor = (model: ModelView, report: CompareReport) =>
  model.versions.some((v) => v.task === 'regression') ||
  report.versions.some((v) => v.task === 'regression');

/** A regressor's columns: predicted mean and p5/p50/p95, MAE and RMSE always valid. */
function regressionCells(r: CompareReport['versions'][number] | undefined) {
  const predicted = r?.predicted;
  const error = r?.error;
  return `<td data-field="predicted">${predicted ? num(predicted.mean) : '–'}</td>
      <td data-field="predicted-range">${predicted ? `${num(predicted.p5)} / ${num(predicted.p50)} / ${num(predicted.p95)}` : '–'}</td>
      <td data-field="mae">${error ? `${num(error.mae)} <small>(${range(error.sequential.mae, num)})</small>` : '–'}</td>
      <td data-field="rmse">${error ? `${num(error.rmse)} <small>(${range(error.sequential.rmse, num)})</small>` : '–'}</td>
      <td data-field="values">${error ? error.n : 0}</td>`;
}

function versionTable(
  model: ModelView,
  report: CompareReport,
  names: string[],
  colors: Map<string, string>,
) {
  const byVersion = new Map(report.versions.map((v) => [v.version, v]));
  const since =
    report.window.since === null || report.window.since === 0
      ? 'the start of the log'
      : dateTime(report.window.since);
  const regressor = isRegressor(model, report);
  const withValues = !regressor && report.versions.some((v) => v.value !== null);
  const rows = names.map((version) => {
    const r = byVersion.get(version);
    const acc = r?.accuracy;
    const value = r?.value;
    const outcome = regressor
      ? regressionCells(r)
      : `<td data-field="accuracy">${acc ? `${pct(acc.estimate)} <small>(${range(acc.sequential, pct)})</small>` : '–'}</td>
      <td data-field="feedback">${acc ? acc.n : 0}</td>
      ${withValues ? `<td data-field="value">${value ? `${num(value.mean)} <small>(${range(value.sequential, num)})</small>` : '–'}</td><td data-field="values">${value ? value.n : 0}</td>` : ''}`;
    return `<tr data-version="${esc(version)}">
      <th scope="row"><span class="swatch" style="background:${colors.get(version)}"></span>${esc(version)} ${badges(model, version)}</th>
      <td data-field="requests">${r ? r.requests : 0}</td>
      <td data-field="share">${r ? pct(r.share) : '–'}</td>
      <td data-field="errors">${r ? `${pct(r.errorRate, 2)} <small>(${r.errors})</small>` : '–'}</td>
      <td data-field="p50">${ms(r?.latencyMs.p50)}</td>
      <td data-field="p95">${ms(r?.latencyMs.p95)}</td>
      ${outcome}
    </tr>`;
  });
  const outcomeHeads = regressor
    ? '<th>predicted mean</th><th>predicted p5 / p50 / p95</th><th>MAE (95% always valid)</th><th>RMSE (95% always valid)</th><th>values</th>'
    : `<th>accuracy (95% always valid)</th><th>feedback</th>
        ${withValues ? '<th>mean value (95% always valid)</th><th>values</th>' : ''}`;
  return `<h3>Versions since the split was last set (${esc(since)})</h3>
    <p class="muted always-valid" data-field="always-valid">Intervals and p-values are always valid: you may look as often as you like.</p>
    <table class="versions">
      <thead><tr><th>version</th><th>requests</th><th>share</th><th>errors</th><th>p50 ms</th>
        <th>p95 ms</th>${outcomeHeads}</tr></thead>
      <tbody>${rows.join('')}</tbody>
    </table>`;
}

function findings(report: CompareReport, regressor: boolean) {
  const lines: string[] = [];
  const verdict = (significant: boolean) =>
    significant ? '<strong>a difference</strong>' : 'no difference shown yet';
  // A regressor has no accuracy (report.accuracy is empty); its mean outcome and shadow
  // label agreement do not apply either: its shadow's paired errors do.
  for (const c of report.accuracy) {
    const t = c.sequential;
    lines.push(
      `accuracy: ${esc(c.candidate)} − ${esc(c.baseline)} = ${points(c.difference)} points ` +
        `(always valid: 95% ${points(t.low)} to ${points(t.high)} points, p = ${pValue(t.pValue)}), ${verdict(t.significant)}`,
    );
  }
  if (!regressor && report.accuracy.length === 0) {
    lines.push('accuracy: needs feedback on at least two versions');
  }
  for (const c of regressor ? [] : report.value) {
    const t = c.sequential;
    const signed = (x: number) => `${x >= 0 ? '+' : ''}${num(x)}`;
    lines.push(
      t
        ? `value: ${esc(c.candidate)} − ${esc(c.baseline)} = ${signed(c.difference)} ` +
            `(always valid: 95% ${signed(t.low)} to ${signed(t.high)}, p = ${pValue(t.pValue)}), ${verdict(t.significant)}`
        : `value: ${esc(c.candidate)} − ${esc(c.baseline)}: needs two values on each version`,
    );
  }
  const srm = report.sampleRatio;
  if (srm?.sequential && !srm.sequential.mismatch) {
    const observed = counts(srm.observed);
    lines.push(
      `sample ratio: observed ${esc(observed)} fits the split ${esc(weights(srm.expected))} (always-valid p = ${pValue(srm.sequential.pValue)})`,
    );
  } else if (!srm?.sequential) {
    lines.push(`sample ratio: not tested (${esc(report.sampleRatioNote ?? 'no split')})`);
  }
  for (const s of regressor ? [] : report.shadow) {
    lines.push(
      `shadow: ${esc(s.shadow)} agrees with ${esc(s.served)} on ${pct(s.agreement?.estimate)} of ` +
        `${s.pairs} mirrored rows (always valid: 95% ${range(s.sequential, pct)})`,
    );
  }
  // A regressor's shadow is judged on the mirrored rows with feedback values instead.
  for (const s of regressor ? report.shadow : []) {
    const e = s.pairedError;
    if (!e) continue;
    const signed = (x: number) => `${x >= 0 ? '+' : ''}${num(x)}`;
    const interval = (r: { low: number; high: number } | null) =>
      r ? `always valid: 95% ${signed(r.low)} to ${signed(r.high)}` : 'no interval yet';
    lines.push(
      `shadow: ${esc(s.shadow)} − ${esc(s.served)} on the same ${e.n} rows with feedback values: ` +
        `MAE ${signed(e.maeDifference)} (${interval(e.sequential.maeDifference)}), ` +
        `MSE ${signed(e.mseDifference)} (${interval(e.sequential.mseDifference)}); below 0: ${esc(s.shadow)} is closer`,
    );
  }
  return `<ul class="findings" data-field="findings">${lines.map((l) => `<li>${l}</li>`).join('')}</ul>`;
}

/** Rounds a chart's top up to 1, 2 or 5 × 10^k. */
function niceMax(x: number) {
  const step = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 5, 10].map((m) => m * step).find((m) => m >= x) ?? x;
}

/** Requests per minute per version, stacked bars, as an inline SVG. */
function chart(traffic: TrafficSeries, colors: Map<string, string>) {
  const W = 460;
  const H = 170;
  const left = 34;
  const right = 4;
  const top = 8;
  const bottom = 20;
  const n = traffic.buckets.length;
  const totals = traffic.buckets.map((_, i) =>
    traffic.versions.reduce((sum, v) => sum + (v.counts[i] ?? 0), 0),
  );
  const max = niceMax(Math.max(1, ...totals));
  const y = (value: number) => top + (H - top - bottom) * (1 - value / max);
  const slot = (W - left - right) / n;
  const parts: string[] = [];
  const ticks =
    traffic.versions.length === 0 ? [0] : Number.isInteger(max / 2) ? [0, max / 2, max] : [0, max];
  for (const value of ticks) {
    parts.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(value)}" y2="${y(value)}" stroke="#e3e6ea"/>`,
      `<text x="${left - 5}" y="${y(value) + 4}" text-anchor="end">${value}</text>`,
    );
  }
  if (traffic.versions.length === 0) {
    parts.push(`<text x="${(W + left) / 2}" y="${H / 2}" text-anchor="middle">no traffic</text>`);
  }
  traffic.buckets.forEach((start, i) => {
    let base = 0;
    for (const v of traffic.versions) {
      const count = v.counts[i] ?? 0;
      if (count === 0) continue;
      parts.push(
        `<rect data-version="${esc(v.version)}" x="${(left + i * slot + 0.5).toFixed(1)}" width="${Math.max(1, slot - 1).toFixed(1)}"
          y="${y(base + count).toFixed(1)}" height="${(y(base) - y(base + count)).toFixed(1)}" fill="${colors.get(v.version)}">
          <title>${hhmm(start)} ${esc(v.version)}: ${count} requests</title></rect>`,
      );
      base += count;
    }
    if (i % 15 === 0 || i === n - 1) {
      const anchor = i === n - 1 ? 'end' : 'middle';
      const x = i === n - 1 ? W - right : left + (i + 0.5) * slot;
      parts.push(`<text x="${x}" y="${H - 5}" text-anchor="${anchor}">${hhmm(start)}</text>`);
    }
  });
  const legend = traffic.versions
    .map(
      (v) =>
        `<span><span class="swatch" style="background:${colors.get(v.version)}"></span>${esc(v.version)}</span>`,
    )
    .join('');
  return `<div class="chart"><h3>Requests per minute, last ${n} minutes</h3>
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-label="requests per minute per version">${parts.join('')}</svg>
    <div class="legend">${legend}</div></div>`;
}

/** What an event changed: the versions, and the weights or percent it set. */
function change(e: StoredDeploymentEvent) {
  const versions = [e.from, e.to].filter(Boolean).join(' → ');
  // What the control plane and the rollout write into an event's detail.
  const d: { weights?: Record<string, number>; percent?: unknown; step?: unknown } = e.detail ?? {};
  const what = d.weights
    ? weights(d.weights)
    : typeof d.percent === 'number'
      ? `${d.percent}%`
      : typeof d.step === 'number'
        ? `at ${d.step}%`
        : '';
  return [versions, what].filter(Boolean).join(', ');
}

function events(control: ControlView | null) {
  if (!control) {
    return '<p class="muted events">Paste the control token above to see the deployment history and use the buttons.</p>';
  }
  if (control.error) {
    const why =
      control.error.status === 401 ? 'the control token was rejected' : control.error.message;
    return `<p class="error events">Deployment history: ${esc(why)}</p>`;
  }
  const rollout = control.rollout;
  const running =
    rollout?.status === 'running'
      ? `<p class="muted">Rollout of ${esc(rollout.candidate)} running: step ${rollout.stepIndex + 1} of ${rollout.steps.length} (${rollout.steps[rollout.stepIndex]}%).</p>`
      : '';
  const rows = control.events.map(
    (e) => `<tr data-action="${esc(e.action)}"><td>${dateTime(e.ts)}</td><td>${esc(e.action)}</td>
      <td>${esc(change(e))}</td><td>${esc(e.actor)}</td><td>${esc(e.reason ?? '')}</td></tr>`,
  );
  return `<div class="events">${running}<h3>Deployment history (last ${control.events.length})</h3>
    <table><thead><tr><th>time</th><th>action</th><th>change</th><th>actor</th><th>reason</th></tr></thead>
    <tbody>${rows.join('')}</tbody></table></div>`;
}

// ---- drift: on demand, since each check reads every served row of eight days ----

/** The last day against the seven before it. */
const DRIFT_QUERY = 'since=1d&baseline=8d..1d';
const driftChecks = new Map<string, { drift: DriftReport } | { error: string } | 'checking'>();

function driftSection(model: string) {
  const check = driftChecks.get(model);
  const button = `<button type="button" data-drift="${esc(model)}"${check === 'checking' ? ' disabled' : ''}>Check drift: the last day against the 7 days before</button>`;
  let result = '';
  if (check === 'checking') result = '<p class="muted">checking…</p>';
  else if (check && 'error' in check) result = `<p class="error">${esc(check.error)}</p>`;
  else if (check) {
    const items = check.drift.versions.map((v) => {
      const features = v.features.filter((f) => f.flagged);
      const flagged = features.length
        ? `drift in ${features.map((f) => `<strong>${esc(f.feature)}</strong> (PSI ${psi(f.psi)})`).join(', ')}`
        : 'no feature flagged';
      const what = v.prediction?.kind === 'value' ? 'predicted value' : 'label mix';
      const labels = v.prediction?.flagged ? `; ${what} moved (PSI ${psi(v.prediction.psi)})` : '';
      const note = v.note ? ` <small class="muted">${esc(v.note)}</small>` : '';
      return `<li data-drift-version="${esc(v.version)}">${esc(v.version)}: ${flagged}${labels}${note}</li>`;
    });
    result = `<ul class="drift">${items.join('') || '<li>no served traffic in the last day</li>'}</ul>`;
  }
  return `<div data-field="drift">${button}${result}</div>`;
}

function renderModel({ model, report, traffic, control }: LoadedModel) {
  const names = versionsOf(model, report, traffic);
  const colors = new Map(names.map((v, i) => [v, COLORS[i % COLORS.length] as string]));
  return `<section class="model" data-model="${esc(model.name)}">
    <header class="model-head"><h2>${esc(model.name)}</h2>${facts(model, report)}${actions(model, control)}</header>
    ${srmBanner(report)}
    <div class="body">
      <div>${versionTable(model, report, names, colors)}${findings(report, isRegressor(model, report))}${driftSection(model.name)}${replaySection(model, getToken() !== '')}</div>
      ${chart(traffic, colors)}
    </div>
    ${events(control)}
  </section>`;
}

// ---- the page ----

/** An element page.tsx renders; missing means the page and this script disagree. */
function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`dashboard: #${id} is not on the page`);
  return found;
}

const $models = element('models', HTMLElement);
const $status = element('status', HTMLElement);
const $notice = element('notice', HTMLElement);
const $tokenForm = element('token-form', HTMLFormElement);
const $token = element('token', HTMLInputElement);
const $tokenState = element('token-state', HTMLElement);
const $forget = element('forget-token', HTMLButtonElement);

let shown = '';
/** The last figures read: a replay's progress redraws them without reading them again. */
let views: LoadedModel[] = [];
function draw() {
  const html = views.length
    ? views.map(renderModel).join('')
    : '<p class="muted">No models are loaded.</p>';
  // Unchanged figures leave the DOM alone: no flicker, no lost hover or focus.
  if (html !== shown) {
    $models.innerHTML = html;
    shown = html;
  }
}

async function update() {
  try {
    const { models } = await api<{ models: ModelView[] }>('/models');
    views = await Promise.all(models.map(loadModel));
    draw();
    $status.textContent = `updated ${clock(Date.now())} · refreshes every ${REFRESH_MS / 1000} s`;
  } catch (error) {
    $status.textContent = `update failed at ${clock(Date.now())}: ${messageOf(error)}`;
  }
}

let timer = 0;
let busy = false;
let again = false;
async function refresh() {
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  clearTimeout(timer);
  try {
    // A tab in the background waits; it refreshes when it is shown again.
    if (document.hidden) return;
    do {
      again = false;
      await update();
    } while (again);
  } finally {
    busy = false;
    timer = setTimeout(refresh, REFRESH_MS);
  }
}

function showNotice(text: string, kind: 'ok' | 'error') {
  $notice.textContent = text;
  $notice.className = kind;
  $notice.hidden = false;
}

function showTokenState() {
  const token = getToken();
  $tokenState.textContent = token ? 'token kept for this tab' : 'read-only: paste the token to act';
  $forget.hidden = !token;
}

$tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $token.value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  $token.value = '';
  showTokenState();
  refresh();
});

$forget.addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showTokenState();
  refresh();
});

$models.addEventListener('click', async (event) => {
  const button =
    event.target instanceof Element
      ? event.target.closest<HTMLButtonElement>('button[data-action]')
      : null;
  if (!button || button.disabled) return;
  const { action, model, version, confirm } = button.dataset;
  if (!window.confirm(confirm)) return;
  button.disabled = true;
  const body = { model, reason: 'dashboard', ...(action === 'promote' ? { version } : {}) };
  try {
    const view = await api<{ deployment: DeploymentState }>(
      `/control/${action}`,
      withToken({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    );
    showNotice(`${action} ${model}: ${view.deployment.live} is live`, 'ok');
  } catch (error) {
    showNotice(`${action} ${model} failed: ${messageOf(error)}`, 'error');
  }
  await refresh();
});

$models.addEventListener('click', async (event) => {
  const button =
    event.target instanceof Element
      ? event.target.closest<HTMLButtonElement>('button[data-drift]')
      : null;
  const model = button?.dataset.drift;
  if (!model || button.disabled) return;
  driftChecks.set(model, 'checking');
  await refresh();
  try {
    const report = await api<CompareReport & { drift: DriftReport }>(
      `/compare/${encodeURIComponent(model)}?${DRIFT_QUERY}`,
    );
    driftChecks.set(model, { drift: report.drift });
  } catch (error) {
    driftChecks.set(model, { error: `drift check failed: ${messageOf(error)}` });
  }
  await refresh();
});

// ---- replay: POST /control/replay, then GET it every second until it ends ----

const REPLAY_POLL_MS = 1000;

$models.addEventListener('change', (event) => {
  const select =
    event.target instanceof HTMLSelectElement && event.target.dataset.replayCandidate
      ? event.target
      : null;
  if (select?.dataset.replayCandidate) {
    replayChoices.set(select.dataset.replayCandidate, select.value);
  }
});

async function followReplay(model: string, id: string) {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
    try {
      const job = await api<ReplayView>(`/control/replay/${encodeURIComponent(id)}`, withToken());
      replayStates.set(model, { job });
      draw();
      if (isFinished(job)) return;
    } catch (error) {
      replayStates.set(model, { error: `replay status failed: ${messageOf(error)}` });
      draw();
      return;
    }
  }
}

$models.addEventListener('click', async (event) => {
  const button =
    event.target instanceof Element
      ? event.target.closest<HTMLButtonElement>('button[data-replay]')
      : null;
  const name = button?.dataset.replay;
  const model = views.find((v) => v.model.name === name)?.model;
  if (!name || !model || button.disabled) return;
  const candidate = chosenCandidate(model);
  replayStates.set(name, 'starting');
  draw();
  try {
    const job = await api<ReplayView>(
      '/control/replay',
      withToken({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: name, candidate, since: DASHBOARD_REPLAY_SINCE }),
      }),
    );
    replayStates.set(name, { job });
    draw();
    await followReplay(name, job.id);
  } catch (error) {
    replayStates.set(name, { error: `replay failed: ${messageOf(error)}` });
    draw();
  }
});

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) refresh();
});

showTokenState();
refresh();
