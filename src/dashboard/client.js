// The modelgate dashboard. Plain browser JavaScript served as is by GET /dashboard.js: no
// build step, no dependencies. Every figure shown comes from the gateway's APIs (/models,
// /compare/:model, /control/:model and /dashboard/api/traffic/:model); this script only
// formats and draws them, and refreshes every few seconds.

const REFRESH_MS = 3000;
const WINDOW = '1h';
const TRAFFIC_MINUTES = 60;
const TOKEN_KEY = 'modelgate.controlToken';
const COLORS = ['#2563eb', '#ea580c', '#7c3aed', '#0d9488', '#db2777', '#65a30d'];

// ---- formatting (the same as `npm run compare`) ----

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (value) => String(value).replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
const pct = (x, digits = 1) =>
  x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`;
const ms = (x) => (x === null || x === undefined ? '–' : x < 1 ? x.toFixed(3) : x.toFixed(2));
const pValue = (p) => (p < 0.0001 ? p.toExponential(1) : p.toFixed(4));
const points = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
const two = (n) => String(n).padStart(2, '0');
const hhmm = (t) => {
  const d = new Date(t);
  return `${two(d.getHours())}:${two(d.getMinutes())}`;
};
const clock = (t) => `${hhmm(t)}:${two(new Date(t).getSeconds())}`;
const dateTime = (t) => {
  const d = new Date(t);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clock(t)}`;
};
const weights = (w) =>
  Object.entries(w)
    .map(([version, weight]) => `${version} ${weight}`)
    .join(' : ');

// ---- the gateway's APIs ----

const getToken = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

async function api(path, init = {}) {
  const res = await fetch(path, { cache: 'no-store', ...init });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const error = new Error(body?.error?.message ?? `${res.status} ${res.statusText}`);
    error.status = res.status;
    throw error;
  }
  return body;
}

const withToken = (init = {}) => ({
  ...init,
  headers: { ...init.headers, authorization: `Bearer ${getToken()}` },
});

async function loadModel(model) {
  const name = encodeURIComponent(model.name);
  const [report, traffic, control] = await Promise.all([
    api(`/compare/${name}?since=${WINDOW}`),
    api(`/dashboard/api/traffic/${name}?minutes=${TRAFFIC_MINUTES}`),
    getToken() ? api(`/control/${name}`, withToken()).catch((error) => ({ error })) : null,
  ]);
  return { model, report, traffic, control };
}

// ---- drawing ----

/** Hosted versions first, then any version that still has traffic in the window. */
function versionsOf(model, report, traffic) {
  const names = model.versions.map((v) => v.version);
  for (const v of [...report.versions, ...traffic.versions]) {
    if (!names.includes(v.version)) names.push(v.version);
  }
  return names;
}

function badges(model, version) {
  const out = [];
  if (version === model.live) out.push('<span class="badge live">live</span>');
  if (version === model.standby) out.push('<span class="badge standby">standby</span>');
  if (model.shadow?.version === version) out.push('<span class="badge shadow">shadow</span>');
  return out.join(' ');
}

function facts(model, report) {
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

function actions(model, control) {
  const disabled = getToken() ? '' : ' disabled title="paste the control token first"';
  const name = esc(model.name);
  const history = control && !control.error ? control.deployment.history : null;
  const previous = history ? history[history.length - 1] : undefined;
  const button = (action, label, confirm, extra = '', off = false) =>
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

function srmBanner(report) {
  const srm = report.sampleRatio;
  if (!srm?.sequential?.mismatch) return '';
  const observed = Object.entries(srm.observed)
    .map(([v, n]) => `${v} ${n}`)
    .join(', ');
  return `<p class="srm" role="alert" data-field="srm"><strong>Sample ratio mismatch.</strong>
    Observed ${esc(observed)} since ${esc(dateTime(srm.since))} against the split ${esc(weights(srm.expected))}
    (always-valid p = ${pValue(srm.sequential.pValue)} &lt; ${srm.sequential.alpha}).
    The assignment is broken (a bot, a cache, a client pinning a version): do not trust the
    comparison until the cause is found.</p>`;
}

function versionTable(model, report, names, colors) {
  const byVersion = new Map(report.versions.map((v) => [v.version, v]));
  const since = report.window.since === null ? 'all time' : `since ${hhmm(report.window.since)}`;
  const rows = names.map((version) => {
    const r = byVersion.get(version);
    const acc = r?.accuracy;
    return `<tr data-version="${esc(version)}">
      <th scope="row"><span class="swatch" style="background:${colors.get(version)}"></span>${esc(version)} ${badges(model, version)}</th>
      <td data-field="requests">${r ? r.requests : 0}</td>
      <td data-field="share">${r ? pct(r.share) : '–'}</td>
      <td data-field="errors">${r ? `${pct(r.errorRate, 2)} <small>(${r.errors})</small>` : '–'}</td>
      <td data-field="p50">${ms(r?.latencyMs.p50)}</td>
      <td data-field="p95">${ms(r?.latencyMs.p95)}</td>
      <td data-field="accuracy">${acc ? `${pct(acc.estimate)} <small>(${pct(acc.low)}–${pct(acc.high)})</small>` : '–'}</td>
      <td data-field="feedback">${acc ? acc.n : 0}</td>
    </tr>`;
  });
  return `<h3>Versions, last hour (${esc(since)})</h3>
    <table class="versions">
      <thead><tr><th>version</th><th>requests</th><th>share</th><th>errors</th><th>p50 ms</th>
        <th>p95 ms</th><th>accuracy (95% CI)</th><th>feedback</th></tr></thead>
      <tbody>${rows.join('')}</tbody>
    </table>`;
}

function findings(report) {
  const lines = [];
  for (const c of report.accuracy) {
    const t = c.fixedHorizon;
    const verdict =
      t.pValue === null
        ? 'not testable (no variance)'
        : t.significant
          ? `<strong>significant</strong> (p = ${pValue(t.pValue)} &lt; 0.05)`
          : `not significant (p = ${pValue(t.pValue)})`;
    lines.push(
      `accuracy: ${esc(c.candidate)} is ${(Math.abs(c.difference) * 100).toFixed(1)} points ` +
        `${c.difference >= 0 ? 'higher' : 'lower'} than ${esc(c.baseline)} ` +
        `(fixed horizon: 95% CI ${points(t.low)} to ${points(t.high)} points), ${verdict}`,
    );
  }
  if (report.accuracy.length === 0) lines.push('accuracy: needs feedback on at least two versions');
  const srm = report.sampleRatio;
  if (srm?.sequential && !srm.sequential.mismatch) {
    const observed = Object.entries(srm.observed)
      .map(([v, n]) => `${v} ${n}`)
      .join(', ');
    lines.push(
      `sample ratio: observed ${esc(observed)} fits the split ${esc(weights(srm.expected))} (always-valid p = ${pValue(srm.sequential.pValue)})`,
    );
  } else if (!srm?.sequential) {
    lines.push(`sample ratio: not tested (${esc(report.sampleRatioNote ?? 'no split')})`);
  }
  for (const s of report.shadow) {
    lines.push(
      `shadow: ${esc(s.shadow)} agrees with ${esc(s.served)} on ${pct(s.agreement?.estimate)} of ` +
        `${s.pairs} mirrored requests (95% CI ${pct(s.agreement?.low)}–${pct(s.agreement?.high)})`,
    );
  }
  return `<ul class="findings" data-field="findings">${lines.map((l) => `<li>${l}</li>`).join('')}</ul>`;
}

/** Rounds a chart's top up to 1, 2 or 5 × 10^k. */
function niceMax(x) {
  const step = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 5, 10].map((m) => m * step).find((m) => m >= x) ?? x;
}

/** Requests per minute per version, stacked bars, as an inline SVG. */
function chart(traffic, colors) {
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
  const y = (value) => top + (H - top - bottom) * (1 - value / max);
  const slot = (W - left - right) / n;
  const parts = [];
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
function change(e) {
  const versions = [e.from, e.to].filter(Boolean).join(' → ');
  const d = e.detail ?? {};
  const what = d.weights
    ? weights(d.weights)
    : typeof d.percent === 'number'
      ? `${d.percent}%`
      : typeof d.step === 'number'
        ? `at ${d.step}%`
        : '';
  return [versions, what].filter(Boolean).join(', ');
}

function events(control) {
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

function renderModel({ model, report, traffic, control }) {
  const names = versionsOf(model, report, traffic);
  const colors = new Map(names.map((v, i) => [v, COLORS[i % COLORS.length]]));
  return `<section class="model" data-model="${esc(model.name)}">
    <header class="model-head"><h2>${esc(model.name)}</h2>${facts(model, report)}${actions(model, control)}</header>
    ${srmBanner(report)}
    <div class="body">
      <div>${versionTable(model, report, names, colors)}${findings(report)}</div>
      ${chart(traffic, colors)}
    </div>
    ${events(control)}
  </section>`;
}

// ---- the page ----

const $models = document.getElementById('models');
const $status = document.getElementById('status');
const $notice = document.getElementById('notice');
const $tokenForm = document.getElementById('token-form');
const $token = document.getElementById('token');
const $tokenState = document.getElementById('token-state');
const $forget = document.getElementById('forget-token');

let shown = '';
async function update() {
  try {
    const { models } = await api('/models');
    const views = await Promise.all(models.map(loadModel));
    const html = views.length
      ? views.map(renderModel).join('')
      : '<p class="muted">No models are loaded.</p>';
    // Unchanged figures leave the DOM alone: no flicker, no lost hover or focus.
    if (html !== shown) {
      $models.innerHTML = html;
      shown = html;
    }
    $status.textContent = `updated ${clock(Date.now())} · refreshes every ${REFRESH_MS / 1000} s`;
  } catch (error) {
    $status.textContent = `update failed at ${clock(Date.now())}: ${error.message}`;
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

function showNotice(text, kind) {
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
  const button = event.target.closest('button[data-action]');
  if (!button || button.disabled) return;
  const { action, model, version, confirm } = button.dataset;
  if (!window.confirm(confirm)) return;
  button.disabled = true;
  const body = { model, reason: 'dashboard', ...(action === 'promote' ? { version } : {}) };
  try {
    const view = await api(
      `/control/${action}`,
      withToken({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    );
    showNotice(`${action} ${model}: ${view.deployment.live} is live`, 'ok');
  } catch (error) {
    showNotice(`${action} ${model} failed: ${error.message}`, 'error');
  }
  await refresh();
});

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) refresh();
});

showTokenState();
refresh();
