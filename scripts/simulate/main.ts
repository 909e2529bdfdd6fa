/**
 * npm run simulate [-- --rollouts N] [--seed S] [--metrics accuracy,errorRate,value,mae,rmse,maeRounded] [--json]
 * Runs every cell (metric × scenario × labelled predictions per interval) of the
 * simulation on two worker threads and prints the table docs/statistics.md quotes.
 */

import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  ALPHA,
  type CellOptions,
  type CellResult,
  cellSeed,
  fixedHorizonSamples,
  MAX_EVALUATIONS,
  METRICS,
  type MetricName,
  PER_INTERVAL,
  SCENARIOS,
  STEPS,
  simulateCell,
} from './simulation.js';

const METRIC_NAMES: MetricName[] = ['accuracy', 'errorRate', 'value', 'mae', 'rmse', 'maeRounded'];

interface Args {
  rollouts: number;
  seed: number;
  json: boolean;
  /** The metrics to simulate (default all); each keeps its own cell seeds. */
  metrics: MetricName[];
}

function parseMetrics(list: string | undefined): MetricName[] {
  const names = (list ?? '').split(',').filter((name) => name !== '');
  const unknown = names.filter((name) => !METRIC_NAMES.includes(name as MetricName));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`--metrics: expected some of ${METRIC_NAMES.join(', ')}, got "${list ?? ''}"`);
  }
  return names as MetricName[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { rollouts: 2000, seed: 1, json: false, metrics: METRIC_NAMES };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const next = Number(argv[++i]);
      if (!Number.isInteger(next) || next < 0) throw new Error(`${flag}: expected a whole number`);
      return next;
    };
    if (flag === '--rollouts') args.rollouts = Math.max(1, value());
    else if (flag === '--seed') args.seed = value();
    else if (flag === '--json') args.json = true;
    else if (flag === '--metrics') args.metrics = parseMetrics(argv[++i]);
    else
      throw new Error(
        `unknown argument ${flag} (use --rollouts N, --seed S, --metrics a,b, --json)`,
      );
  }
  return args;
}

function cells(args: Args): CellOptions[] {
  const list: CellOptions[] = [];
  METRIC_NAMES.forEach((metric, m) => {
    if (!args.metrics.includes(metric)) return;
    (METRICS[metric].scenarios ?? SCENARIOS).forEach((scenario, s) => {
      PER_INTERVAL.forEach((perInterval, t) => {
        list.push({
          metric,
          scenario,
          perInterval,
          rollouts: args.rollouts,
          seed: cellSeed(args.seed, m, s, t),
        });
      });
    });
  });
  return list;
}

async function runOnWorkers(list: CellOptions[]): Promise<CellResult[]> {
  const results = new Array<CellResult>(list.length);
  // The slow cells (20 per interval: rollouts that wait all 3,600 evaluations) go first.
  const order = list
    .map((_, i) => i)
    .sort((a, b) => (list[a]?.perInterval ?? 0) - (list[b]?.perInterval ?? 0));
  let next = 0;
  const threads = Math.max(1, Math.min(2, availableParallelism()));
  await Promise.all(
    Array.from({ length: threads }, async () => {
      // A child process per core, running this file with tsx (worker threads would not load .ts).
      const worker = fork(fileURLToPath(import.meta.url), ['--worker'], {
        execArgv: ['--import', 'tsx'],
      });
      try {
        for (;;) {
          const index = order[next++];
          if (index === undefined) break;
          results[index] = await new Promise<CellResult>((resolve, reject) => {
            const failed = (error: Error) => reject(error);
            worker.once('error', failed);
            worker.once('message', (message) => {
              worker.off('error', failed);
              resolve(message as CellResult);
            });
            worker.send(list[index] as CellOptions);
          });
        }
      } finally {
        worker.disconnect();
      }
    }),
  );
  return results;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const count = (x: number | null) => (x === null ? '—' : Math.round(x).toLocaleString('en-US'));

function print(results: CellResult[], args: Args, seconds: number) {
  console.log(
    `modelgate rollout simulation: steps ${STEPS.join('/')} %, alpha ${ALPHA}, ${args.rollouts} rollouts per cell, up to ${MAX_EVALUATIONS} evaluations, seed ${args.seed} (${seconds.toFixed(1)} s)`,
  );
  for (const metric of args.metrics) {
    console.log(`\n## ${metric}`);
    console.log(
      '| scenario | live → candidate | per interval | rolled back | promoted | waiting | first step passed | median samples to rollback | to promote | old rules: rolled back | promoted | waiting |',
    );
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of results.filter((x) => x.metric === metric)) {
      const s = r.sequential;
      const b = r.baseline;
      console.log(
        `| ${r.scenario} | ${r.live} → ${r.candidate} | ${r.perInterval} | ${pct(s.rolledBack)} | ${pct(s.promoted)} | ${pct(s.waiting)} | ${pct(s.firstStepPassed)} | ${count(s.medianSamplesToRollback)} | ${count(s.medianSamplesToPromote)} | ${b ? pct(b.rolledBack) : 'n/a'} | ${b ? pct(b.promoted) : 'n/a'} | ${b ? pct(b.waiting) : 'n/a'} |`,
      );
    }
    const worst = (METRICS[metric].scenarios ?? SCENARIOS).find((s) => s.worseBy === 3);
    if (worst) {
      console.log(
        `\nFixed-horizon one-sided z-test, alpha ${ALPHA}, power 95 %, 5/95 allocation, for "${worst.name}": ${count(fixedHorizonSamples(metric, worst, ALPHA, 0.95))} labelled predictions, fixed in advance and looked at once.`,
      );
    }
  }
}

if (process.argv[2] === '--worker') {
  process.on('message', (cell: CellOptions) => process.send?.(simulateCell(cell)));
} else {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const results = await runOnWorkers(cells(args));
  const seconds = (performance.now() - started) / 1000;
  if (args.json) {
    const fixedHorizon = Object.fromEntries(
      args.metrics.map((metric) => [
        metric,
        fixedHorizonSamples(
          metric,
          SCENARIOS.find((s) => s.worseBy === 3) ?? { name: 'worse by 3× margin', worseBy: 3 },
          ALPHA,
          0.95,
        ),
      ]),
    );
    console.log(
      JSON.stringify(
        { ...args, alpha: ALPHA, steps: STEPS, seconds, fixedHorizon, results },
        null,
        2,
      ),
    );
  } else print(results, args, seconds);
}
