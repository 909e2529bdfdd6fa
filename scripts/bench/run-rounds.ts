import {
  type BenchContext,
  measure,
  runLine,
  type StartedScenario,
  startScenario,
} from './measure.js';
import type { ServerResult, ServerRun } from './report.js';
import { balancedOrder, type RoundsResult } from './rounds.js';
import type { Scenario } from './scenarios.js';
import type { ServerHandle } from './servers.js';

export interface RunningServer {
  scenario: Scenario;
  server: ServerHandle;
}

export const serverResult = (scenario: Scenario, runs: ServerRun[]): ServerResult => ({
  id: scenario.id,
  model: scenario.model,
  kind: scenario.kind,
  label: scenario.label,
  env: scenario.env,
  runs,
});

/**
 * `rounds` rounds at `connections`: each round measures every server once for the bench's
 * duration, in a carry-over balanced order (balancedOrder). The servers are started once
 * by the caller and stay up (an idle server spends no CPU): restarting them every round would
 * cost a start and a warm-up per server per round, several minutes at the defaults, and a fresh
 * process would measure its first seconds of JIT each time. Only the modelgate logs grow from
 * round to round, by a few hundred thousand rows, and the order spreads that over positions.
 */
export async function runRounds(
  bench: BenchContext,
  running: RunningServer[],
  rounds: number,
  connections = 64,
): Promise<RoundsResult> {
  const runs = new Map<string, ServerRun[]>(running.map(({ scenario }) => [scenario.id, []]));
  const orders: string[][] = [];
  for (let round = 0; round < rounds; round++) {
    const order = balancedOrder(running, round);
    orders.push(order.map(({ scenario }) => scenario.id));
    bench.progress(`round ${round + 1} of ${rounds} at c=${connections}`);
    for (const { scenario, server } of order) {
      const run = await measure(bench, scenario, server, connections);
      bench.progress(`  ${scenario.label}: ${runLine(run)}`);
      if (run.problem) bench.progress(`  !!! ${scenario.label} round ${round + 1}: ${run.problem}`);
      runs.get(scenario.id)?.push(run);
    }
  }
  return {
    connections,
    durationS: bench.durationS,
    rounds,
    orders,
    servers: running.map(({ scenario }) => serverResult(scenario, runs.get(scenario.id) ?? [])),
  };
}

/** Starts every scenario, hands them to `work` together, and stops them all after. */
export async function withServers<T>(
  bench: BenchContext,
  scenarios: Scenario[],
  work: (running: RunningServer[]) => Promise<T>,
): Promise<T> {
  const started: Array<{ scenario: Scenario; handle: StartedScenario }> = [];
  try {
    for (const scenario of scenarios) {
      started.push({ scenario, handle: await startScenario(bench, scenario) });
    }
    return await work(started.map(({ scenario, handle }) => ({ scenario, server: handle.server })));
  } finally {
    for (const { handle } of started) await handle.stop();
  }
}
