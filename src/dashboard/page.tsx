import { raw } from 'hono/html';

const CSS = `
:root {
  --bg: #f5f6f8; --card: #fff; --ink: #1f2933; --muted: #6b7280; --line: #e3e6ea;
  --live: #15803d; --standby: #1d4ed8; --warn: #b45309; --bad: #b91c1c;
  font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: var(--ink);
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); }
body > header {
  display: flex; flex-wrap: wrap; align-items: center; gap: 12px 24px;
  padding: 12px 24px; background: #111827; color: #f9fafb;
}
body > header h1 { margin: 0; font-size: 18px; letter-spacing: .02em; }
#token-form { display: flex; gap: 8px; align-items: center; }
#token-form input { width: 240px; padding: 5px 8px; border: 1px solid #4b5563; border-radius: 4px; }
#token-state { color: #d1d5db; }
#status { margin-left: auto; color: #9ca3af; font-size: 12px; }
main { max-width: 1280px; margin: 0 auto; padding: 16px 24px 32px; }
#notice { max-width: 1280px; margin: 12px auto 0; padding: 8px 12px; border-radius: 6px; }
#notice.ok { background: #dcfce7; color: #14532d; }
#notice.error { background: #fee2e2; color: #7f1d1d; }
button {
  font: inherit; padding: 5px 12px; border-radius: 4px; border: 1px solid #9ca3af;
  background: #fff; color: var(--ink); cursor: pointer;
}
button:hover:not(:disabled) { background: #eef2ff; }
button:disabled { opacity: .45; cursor: not-allowed; }
.model {
  background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px; margin-bottom: 20px;
}
.model-head { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 12px 32px; }
.model-head h2 { margin: 0; font-size: 20px; min-width: 90px; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 0; }
.facts dt { font-size: 11px; text-transform: uppercase; color: var(--muted); letter-spacing: .04em; }
.facts dd { margin: 0; }
.actions { margin-left: auto; display: flex; gap: 8px; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.live { background: var(--live); color: #fff; }
.badge.standby { border: 1px solid var(--standby); color: var(--standby); }
.badge.pinned { background: #fef3c7; color: var(--warn); }
.badge.shadow { border: 1px dashed var(--muted); color: var(--muted); }
.srm {
  margin: 14px 0 0; padding: 10px 12px; border-radius: 6px;
  background: #fee2e2; color: #7f1d1d; border-left: 4px solid var(--bad);
}
.body { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 24px; margin-top: 14px; }
@media (max-width: 1000px) { .body { grid-template-columns: 1fr; } }
.body > div:first-child { overflow-x: auto; }
h3 { margin: 0 0 6px; font-size: 13px; color: var(--muted); font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; }
tbody th { font-weight: 600; }
small, .muted { color: var(--muted); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.findings { margin: 10px 0 0; padding-left: 18px; }
.chart svg { width: 100%; height: auto; display: block; }
.chart text { font-size: 11px; fill: var(--muted); }
.legend { display: flex; gap: 14px; font-size: 12px; margin-top: 4px; }
.events { margin-top: 16px; max-height: 260px; overflow-y: auto; }
.events table { width: auto; min-width: 70%; }
.events td, .events th { text-align: left; padding-right: 20px; }
.events td:last-child { white-space: normal; }
.error { color: var(--bad); }
.replay { margin-top: 14px; }
.replay select { font: inherit; margin: 0 6px; }
.replay-figures { margin: 8px 0; padding-left: 18px; }
.confusion { width: auto; margin-top: 6px; }
`;

/** The page shell; /dashboard.js fills <main> from the gateway's APIs and keeps it fresh. */
export function DashboardPage() {
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>modelgate</title>
          <link rel="icon" href="data:," />
          <style>{raw(CSS)}</style>
          <script type="module" src="/dashboard.js" />
        </head>
        <body>
          <header>
            <h1>modelgate</h1>
            <form id="token-form" autocomplete="off">
              <input
                id="token"
                type="password"
                placeholder="control token"
                aria-label="control token"
              />
              <button type="submit">Use token</button>
              <button type="button" id="forget-token" hidden>
                Forget
              </button>
              <span id="token-state" />
            </form>
            <span id="status" role="status">
              loading…
            </span>
          </header>
          <p id="notice" role="alert" hidden />
          <main id="models">
            <noscript>
              This page needs JavaScript; the same figures are at /models and /compare/:model.
            </noscript>
          </main>
        </body>
      </html>
    </>
  );
}
