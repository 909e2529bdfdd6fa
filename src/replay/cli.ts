import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createProgress } from '../cli/progress.js';
import { readConfig } from '../config.js';
import { formatReplay } from './format.js';
import type { ReplayView } from './job-view.js';

const USAGE = `usage: npm run replay -- --model <name> --candidate <version> [--since 1d] [--until 1h]
  [--limit N] [--url http://127.0.0.1:8080] [--json]
Talks to a running gateway with MODELGATE_CONTROL_TOKEN; Ctrl-C cancels the replay.`;

const POLL_MS = 500;
/** How many polls to wait for a cancelled replay's partial report. */
const REPORT_WAITS = 10;
const TERMINAL = new Set(['done', 'failed', 'cancelled']);

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The gateway's error message, or the status line when the body has none. */
async function failure(res: Response): Promise<CliError> {
  const text = await res.text();
  let message = `${res.status} ${res.statusText}`;
  try {
    message = `${res.status}: ${(JSON.parse(text) as { error: { message: string } }).error.message}`;
  } catch {
    // not the gateway's JSON error
  }
  return new CliError(message, res.status >= 400 && res.status < 500 ? 2 : 1);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      candidate: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
      url: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.model || !values.candidate) throw new CliError(USAGE, 2);
  const config = readConfig();
  if (config.controlTokenGenerated) {
    throw new CliError('set MODELGATE_CONTROL_TOKEN to the gateway’s control token', 2);
  }
  const url = (values.url ?? `http://127.0.0.1:${config.port}`).replace(/\/$/, '');
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${config.controlToken}`,
  };
  // The gateway checks every field and answers a 400 naming it; only the number is read here.
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  const body = {
    model: values.model,
    candidate: values.candidate,
    ...(values.since === undefined ? {} : { since: values.since }),
    ...(values.until === undefined ? {} : { until: values.until }),
    ...(limit === undefined ? {} : { limit: Number.isNaN(limit) ? values.limit : limit }),
  };
  const posted = await fetch(`${url}/control/replay`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  if (posted.status !== 202) throw await failure(posted);
  let job = (await posted.json()) as ReplayView;

  const cancel = () => {
    process.stderr.write(`\ncancelling replay ${job.id}…\n`);
    void fetch(`${url}/control/replay/${job.id}`, { method: 'DELETE', headers });
  };
  process.once('SIGINT', cancel);
  const progress = createProgress({ label: `replay ${values.model}/${values.candidate}` });
  while (!TERMINAL.has(job.status)) {
    await sleep(POLL_MS);
    const res = await fetch(`${url}/control/replay/${job.id}`, { headers });
    if (!res.ok) throw await failure(res);
    job = (await res.json()) as ReplayView;
    const { rows, total } = job.progress;
    progress.update(rows, total ? rows / total : undefined);
  }
  // A cancelled replay files the report of its rows so far a moment after it stops.
  for (let wait = 0; job.status === 'cancelled' && !job.report && wait < REPORT_WAITS; wait++) {
    await sleep(POLL_MS);
    const res = await fetch(`${url}/control/replay/${job.id}`, { headers });
    if (res.ok) job = (await res.json()) as ReplayView;
  }
  process.off('SIGINT', cancel);
  progress.finish(job.progress.rows, job.status);
  process.stdout.write(values.json ? `${JSON.stringify(job, null, 2)}\n` : formatReplay(job));
  return job.status === 'done' ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known = error instanceof CliError;
    process.stderr.write(`replay: ${known ? error.message : ((error as Error).stack ?? error)}\n`);
    process.exit(known ? error.exitCode : 1);
  },
);
