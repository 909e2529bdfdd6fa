import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogRetention } from '../src/retention/log-retention.js';
import { PROJECT_ROOT } from './support/child-gateway.js';
import {
  IRIS_LABELS,
  irisRows,
  labelsFromOnnx,
  servedRecord,
  waitForReplay,
} from './support/replay.js';
import {
  classifierReport,
  labelFeedbackOf,
  readReplay,
  readReplayList,
  reportOf,
} from './support/replay-responses.js';
import { present, readError } from './support/responses.js';
import { CONTROL_TOKEN, createTestGateway, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
/** 400 rows served by v1 through /predict, in one window. */
const ROWS = irisRows(400, 19);
let servedFrom: number;
let servedUntil: number;
/** A past hour holding a seeded log (error rows, a row missing a feature, feedback). */
const seededFrom = Date.now() - 3 * 3_600_000;

const get = async (id: string) => readReplay(await gw.control('GET', `/control/replay/${id}`));
const submit = async (body: unknown) => gw.control('POST', '/control/replay', body);

async function replay(body: Record<string, unknown>) {
  const res = await submit(body);
  expect(res.status).toBe(202);
  const { id } = await readReplay(res);
  return waitForReplay(get, id);
}

beforeAll(async () => {
  gw = await createTestGateway();
  servedFrom = Date.now();
  // Four requests of 100 rows: each row is its own log row, served by v1 (live).
  for (let i = 0; i < ROWS.length; i += 100) {
    const res = await gw.post('/predict/iris', { instances: ROWS.slice(i, i + 100) });
    expect(res.status).toBe(200);
  }
  await gw.gate.flushLog();
  servedUntil = Date.now() + 1;
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

describe('POST /control/replay', () => {
  it('replaying the live version over its own rows agrees on every row, none failed', async () => {
    const job = await replay({
      model: 'iris',
      candidate: 'v1',
      since: servedFrom,
      until: servedUntil,
    });
    expect(job).toMatchObject({
      model: 'iris',
      candidate: 'v1',
      status: 'done',
      progress: { rows: 400, total: 400 },
      window: { since: servedFrom, until: servedUntil, limit: null },
    });
    const report = classifierReport(job);
    expect(report.rows).toEqual({ read: 400, replayed: 400, failed: 0, skipped: 0 });
    expect(report.failures).toEqual({});
    expect(report.agreement.agreed).toBe(400);
    expect(report.agreement.rate).toBe(1);
    // Only the diagonal is filled.
    const { matrix } = report.agreement;
    for (const [i, row] of (matrix.counts as number[][]).entries()) {
      for (const [j, n] of row.entries()) {
        if (matrix.served[i] !== matrix.candidate[j]) expect(n).toBe(0);
      }
    }
    expect(report.latencyUs.p50).toBeGreaterThan(0);
    expect(report.latencyUs.p99).toBeGreaterThanOrEqual(report.latencyUs.p50);
    // Its results are in their own table, and the log did not grow by a row.
    expect(
      await gw.query('SELECT count(*) AS n FROM replay_results WHERE replay_id = ?', job.id),
    ).toEqual([{ n: 400 }]);
    expect(await gw.query('SELECT count(*) AS n FROM predictions')).toEqual([{ n: 400 }]);
  });

  it('replaying v2 over v1’s rows finds exactly the disagreements the two ONNX files give', async () => {
    const [v1, v2] = await Promise.all([labelsFromOnnx('v1', ROWS), labelsFromOnnx('v2', ROWS)]);
    const expectedDisagreements = ROWS.map((row, i) => ({ row, served: v1[i], candidate: v2[i] }))
      .filter((r) => r.served !== r.candidate)
      .map((r) => JSON.stringify(r));
    // The seed is chosen so the two models do differ: a test of nothing otherwise.
    expect(expectedDisagreements.length).toBeGreaterThan(10);

    // Rows v2 ran through the live batcher (the sum of its batch-size histogram).
    const batcherRows = async () => {
      const text = await (await gw.request('/metrics')).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('modelgate_batch_rows_sum{') && l.includes('version="v2"'));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const before = await batcherRows();
    const job = await replay({
      model: 'iris',
      candidate: 'v2',
      since: servedFrom,
      until: servedUntil,
    });
    // v2 answered 400 rows without one of them going through the queue live requests use.
    expect(await batcherRows()).toBe(before);
    const report = classifierReport(job);
    expect(report.rows).toEqual({ read: 400, replayed: 400, failed: 0, skipped: 0 });
    expect(report.agreement.agreed).toBe(400 - expectedDisagreements.length);

    const results = await gw.query<{ input: string; served: string; candidate: string }>(
      `SELECT p.input, r.served_label AS served, r.candidate_label AS candidate
       FROM replay_results r JOIN predictions p ON p.id = r.prediction_id
       WHERE r.replay_id = ? AND r.served_label IS NOT r.candidate_label`,
      job.id,
    );
    const found = results.map((r) =>
      JSON.stringify({ row: JSON.parse(r.input), served: r.served, candidate: r.candidate }),
    );
    expect(found.sort()).toEqual(expectedDisagreements.sort());

    // The confusion matrix counts the same pairs.
    const { matrix } = report.agreement;
    expect(matrix.candidate).toEqual(IRIS_LABELS);
    for (const [i, served] of matrix.served.entries()) {
      for (const [j, candidate] of matrix.candidate.entries()) {
        const n = ROWS.filter((_, k) => v1[k] === served && v2[k] === candidate).length;
        expect(matrix.counts[i]?.[j]).toBe(n);
      }
    }
  });

  it('skips rows logged as errors and counts rows the candidate cannot take, by reason', async () => {
    const inputs = irisRows(3, 7);
    gw.gate.storage.predictionLog.append([
      servedRecord('err-1', seededFrom + 1, inputs[0] as Record<string, number>, null, {
        status: 'error',
        error: 'boom',
      }),
      servedRecord('ok-1', seededFrom + 2, inputs[1] as Record<string, number>, 'setosa'),
      servedRecord('missing-1', seededFrom + 3, { sepal_length: 5 }, 'setosa'),
      servedRecord('missing-2', seededFrom + 4, { sepal_length: 6 }, 'virginica'),
      servedRecord('notjson', seededFrom + 5, {}, 'setosa', { input: 'not json' }),
      // A shadow row is not served traffic: not read at all.
      servedRecord('shadow-1', seededFrom + 6, inputs[2] as Record<string, number>, 'setosa', {
        version: 'v2',
        route: 'shadow',
        shadowOf: 'ok-1',
      }),
    ]);
    await gw.gate.flushLog();
    const job = await replay({
      model: 'iris',
      candidate: 'v2',
      since: seededFrom,
      until: seededFrom + 100,
    });
    expect(reportOf(job).rows).toEqual({ read: 5, replayed: 1, failed: 3, skipped: 1 });
    expect(reportOf(job).failures).toEqual({
      'input.sepal_width: missing feature': 2,
      'input: logged input is not JSON': 1,
    });
  });

  it('on rows with feedback, compares both versions’ accuracy on the same rows by McNemar', async () => {
    // 200 rows an hour after the rows above; the candidate's label of each from the ONNX file.
    const from = seededFrom + 3_600_000;
    const inputs = irisRows(200, 23);
    const v2 = await labelsFromOnnx('v2', inputs);
    const other = (label: string) => IRIS_LABELS.find((l) => l !== label) as string;
    const third = (a: string, b: string) => IRIS_LABELS.find((l) => l !== a && l !== b) as string;
    // Both right on 100, only the served version on 10, only v2 on 25, neither on 15;
    // the last 50 have no feedback.
    const records = [];
    const feedback: Array<[string, string]> = [];
    for (let i = 0; i < 200; i++) {
      const candidate = v2[i] as string;
      let served: string;
      let truth: string;
      if (i < 100) [served, truth] = [candidate, candidate];
      else if (i < 110) [served, truth] = [other(candidate), other(candidate)];
      else if (i < 135) [served, truth] = [other(candidate), candidate];
      else if (i < 150) [served, truth] = [other(candidate), third(candidate, other(candidate))];
      else [served, truth] = [candidate, ''];
      records.push(servedRecord(`fb-${i}`, from + i, inputs[i] as Record<string, number>, served));
      if (truth) feedback.push([`fb-${i}`, truth]);
    }
    gw.gate.storage.predictionLog.append(records);
    await gw.gate.flushLog();
    for (const [id, label] of feedback) {
      await gw.gate.storage.feedback.record(id, { label }, from + 500);
    }
    const job = await replay({ model: 'iris', candidate: 'v2', since: from, until: from + 1000 });
    const figures = labelFeedbackOf(job);
    expect(figures).toMatchObject({
      rows: 150,
      servedAccuracy: 110 / 150,
      candidateAccuracy: 125 / 150,
      servedOnly: 10,
      candidateOnly: 25,
    });
    // scipy.stats.binomtest(10, 35, 0.5).pvalue (SciPy 1.17.1).
    expect(figures.pValue).toBeCloseTo(0.016673847800120715, 12);
    // (25 − 10) / 150 = 0.1; its interval is Clopper–Pearson's for θ = 25/35 mapped to
    // (2θ − 1)·35/150: python3 scripts/reference/paired-interval.py 10 25 150 (exact
    // rational arithmetic). It excludes 0, as p < 0.05 does.
    const difference = present(figures.difference, 'difference');
    expect(difference.estimate).toBeCloseTo(0.1, 12);
    expect(difference.low).toBeCloseTo(0.017245832541270635, 12);
    expect(difference.high).toBeCloseTo(0.16503445220310567, 12);
    // Agreement counts every replayed row, feedback or not: 100 + 50 agree.
    expect(classifierReport(job).agreement.agreed).toBe(150);
  });

  it('lists recent replays of a model, newest first', async () => {
    const res = await gw.control('GET', '/control/replay?model=iris');
    expect(res.status).toBe(200);
    const { replays } = await readReplayList(res);
    expect(replays.length).toBeGreaterThanOrEqual(4);
    const created = replays.map((r: { createdAt: number }) => r.createdAt);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(replays.every((r: { model: string }) => r.model === 'iris')).toBe(true);
    const none = await readReplayList(await gw.control('GET', '/control/replay?model=penguins'));
    expect(none.replays).toEqual([]);
  });
});

describe('bad replay requests', () => {
  const cases: Array<[string, unknown, number, RegExp]> = [
    ['no body fields', {}, 400, /^model: /],
    ['bad model name', { model: '../x', candidate: 'v2' }, 400, /^model: /],
    ['no candidate', { model: 'iris' }, 400, /^candidate: /],
    [
      'since not a time',
      { model: 'iris', candidate: 'v2', since: 'yesterday-ish' },
      400,
      /^since: /,
    ],
    ['until not a time', { model: 'iris', candidate: 'v2', until: 'soon' }, 400, /^until: /],
    [
      'window backwards',
      { model: 'iris', candidate: 'v2', since: '1h', until: '2h' },
      400,
      /^until: /,
    ],
    // Date.parse would read each of these as some day in 2001 (and -5 as the whole log).
    ['since negative', { model: 'iris', candidate: 'v2', since: -5 }, 400, /^since: /],
    ['since "1 2"', { model: 'iris', candidate: 'v2', since: '1 2' }, 400, /^since: .*ISO 8601/],
    [
      'since "Dec 1"',
      { model: 'iris', candidate: 'v2', since: 'Dec 1', until: 'Dec 2' },
      400,
      /^since: .*ISO 8601/,
    ],
    ['since beyond a Date', { model: 'iris', candidate: 'v2', since: 1e300 }, 400, /^since: /],
    ['empty window', { model: 'iris', candidate: 'v2', since: '0d' }, 400, /^until: .*empty/],
    ['limit 0', { model: 'iris', candidate: 'v2', limit: 0 }, 400, /^limit: /],
    ['limit fractional', { model: 'iris', candidate: 'v2', limit: 1.5 }, 400, /^limit: /],
    ['limit a string', { model: 'iris', candidate: 'v2', limit: '10' }, 400, /^limit: /],
    ['unknown field', { model: 'iris', candidate: 'v2', rate: 5 }, 400, /rate/],
    ['unknown model', { model: 'nosuch', candidate: 'v1' }, 404, /nosuch/],
    ['candidate not hosted', { model: 'iris', candidate: 'v9' }, 404, /v9/],
  ];
  it.each(cases)('%s → %i naming it', async (_name, body, status, message) => {
    const res = await submit(body);
    expect(res.status).toBe(status);
    const { error } = await readError(res);
    expect(error.message).toMatch(message);
  });

  it('reads an until in the future as now: a replay reads rows already served', async () => {
    const res = await submit({
      model: 'iris',
      candidate: 'v2',
      since: '1h',
      until: Date.now() + 365 * 86_400_000,
    });
    const answeredAt = Date.now();
    expect(res.status).toBe(202);
    const job = await readReplay(res);
    expect(job.window.until).toBeLessThanOrEqual(answeredAt);
    const cancelled = await gw.request(`/control/replay/${job.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${CONTROL_TOKEN}` },
    });
    expect(cancelled.status).toBe(200);
  });

  it('malformed JSON is a 400, no job is created', async () => {
    const before = (await gw.query<{ n: number }>('SELECT count(*) AS n FROM replays'))[0]?.n;
    const res = await gw.request('/control/replay', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer control-secret-for-tests',
      },
      body: '{"model":',
    });
    expect(res.status).toBe(400);
    expect((await gw.query<{ n: number }>('SELECT count(*) AS n FROM replays'))[0]?.n).toBe(before);
  });

  it('needs the control token on every replay route', async () => {
    for (const [method, path] of [
      ['POST', '/control/replay'],
      ['GET', '/control/replay'],
      ['GET', '/control/replay/x'],
      ['DELETE', '/control/replay/x'],
    ] as const) {
      const res = await gw.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  it('an unknown replay id is a 404', async () => {
    expect((await gw.control('GET', '/control/replay/nope')).status).toBe(404);
    const res = await gw.request('/control/replay/nope', {
      method: 'DELETE',
      headers: { authorization: 'Bearer control-secret-for-tests' },
    });
    expect(res.status).toBe(404);
  });
});

describe('npm run replay', () => {
  const run = promisify(execFile);
  const cli = (...args: string[]) =>
    run('npm', ['run', '--silent', 'replay', '--', ...args, '--url', gw.url], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, MODELGATE_CONTROL_TOKEN: CONTROL_TOKEN },
    });

  it('posts the replay, shows progress, prints the report and exits 0', async () => {
    const { stdout, stderr } = await cli(
      '--model',
      'iris',
      '--candidate',
      'v2',
      '--since',
      String(servedFrom),
      '--until',
      String(servedUntil),
    );
    const [v1, v2] = await Promise.all([labelsFromOnnx('v1', ROWS), labelsFromOnnx('v2', ROWS)]);
    const agreed = ROWS.filter((_, i) => v1[i] === v2[i]).length;
    expect(stdout).toContain(
      `agreement with the served version: ${((agreed / 400) * 100).toFixed(1)}% (${agreed} of 400 rows)`,
    );
    expect(stdout).toMatch(/served \\ candidate\s+setosa\s+versicolor\s+virginica/);
    expect(stdout).toContain('400 served rows read: 400 replayed, 0 failed, 0 skipped');
    expect(stdout).toMatch(/candidate time per row: p50 \d/);
    expect(stderr).toMatch(/replay iris\/v2 \[#+\.*\] 100%/);
  });

  it('exits 2 with the gateway’s message when the request is refused', async () => {
    const failed = await cli('--model', 'iris', '--candidate', 'v9').then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/^replay: 404: .*v9/m);
  });
});

// Last: it empties the log the tests above read.
describe('replay and log retention', () => {
  it('retention deletes the log rows a replay read; a replay that finished after the horizon stays, with its results and report', async () => {
    const { replays } = await readReplayList(await gw.control('GET', '/control/replay?model=iris'));
    const before = (await gw.query<{ n: number }>('SELECT count(*) AS n FROM replay_results'))[0]
      ?.n;
    expect(before).toBeGreaterThan(0);
    // The horizon just after the last served row: the whole log goes, a batch at a time,
    // while every replay above finished later than that.
    const retention = startLogRetention({
      archive: gw.gate.storage.archive,
      replays: gw.gate.storage.replays,
      retentionMs: 3_600_000,
      leads: () => true,
      now: () => servedUntil + 3_600_000,
      intervalMs: 3_600_000,
      pauseMs: 0,
    });
    try {
      expect(await retention.runOnce()).toBeGreaterThan(0);
    } finally {
      await retention.close();
    }
    expect(await gw.query('SELECT count(*) AS n FROM predictions')).toEqual([{ n: 0 }]);
    expect((await gw.query<{ n: number }>('SELECT count(*) AS n FROM replay_results'))[0]?.n).toBe(
      before,
    );
    for (const listed of replays) {
      const job = await get(listed.id);
      expect(job.report).toEqual(listed.report);
    }
  });
});
