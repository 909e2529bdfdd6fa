import { describe, expect, it } from 'vitest';
import type { FlipResult } from '../scripts/bench/flips.js';
import type { LoadResult } from '../scripts/bench/load.js';
import {
  evaluateTargets,
  floorLine,
  placementLine,
  ratioTargets,
  roundsTable,
  type ServerResult,
  type ServerRun,
} from '../scripts/bench/report.js';
import {
  balancedOrder,
  floorShares,
  median,
  type RoundsResult,
  summarizeRounds,
} from '../scripts/bench/rounds.js';
import { inRounds, type ModelKey, type ServerKind, scenarios } from '../scripts/bench/scenarios.js';

const load = (rps: number, p99Ms: number, connections = 64): LoadResult => ({
  connections,
  durationS: 10,
  rps,
  p50Ms: p99Ms / 4,
  p99Ms,
  ok2xx: rps * 10,
  sent: rps * 10 + connections,
  non2xx: 0,
  errors: 0,
  timeouts: 0,
});

const run = (
  rps: number,
  p99Ms: number,
  cpu: { user: number; system: number } = { user: 80, system: 20 },
  extra: Partial<ServerRun> = {},
): ServerRun => ({
  ...load(rps, p99Ms),
  rssMaxMb: 200,
  cpuUsPerRequest: cpu.user + cpu.system,
  cpuUserUsPerRequest: cpu.user,
  cpuSystemUsPerRequest: cpu.system,
  queueDepthMax: null,
  rowsWritten: null,
  problem: null,
  ...extra,
});

const server = (
  id: string,
  kind: ServerKind,
  runs: ServerRun[],
  model: ModelKey = 'iris',
): ServerResult => ({ id, model, kind, label: id, env: {}, runs });

const roundsOf = (servers: ServerResult[]): RoundsResult => ({
  connections: 64,
  durationS: 10,
  rounds: servers[0]?.runs.length ?? 0,
  orders: [],
  servers,
});

/**
 * Five rounds on a machine whose speed swings by 2× between rounds. Within each round
 * defaults/bare is 2.1, 1.9, 2.2, 2.05, 1.3: the median of those is 2.05. The medians of req/s
 * taken apart (15,600 and 9,000) give 1.73: a ratio across rounds, which the drift decides.
 */
const BARE_RPS = [10_000, 5_000, 9_000, 4_000, 12_000];
const DEFAULTS_RATIOS = [2.1, 1.9, 2.2, 2.05, 1.3];
const drifting = (p99Ratios = [0.8, 0.9, 1.2, 0.7, 0.95]) =>
  roundsOf([
    server(
      'iris/floor',
      'floor',
      BARE_RPS.map((rps) => run(rps * 1.3, 40, { user: 40, system: 10 })),
    ),
    server(
      'iris/bare',
      'bare',
      BARE_RPS.map((rps) => run(rps, 50, { user: 90, system: 10 })),
    ),
    server(
      'iris/batch-on',
      'modelgate',
      BARE_RPS.map((rps, round) =>
        run(rps * (DEFAULTS_RATIOS[round] as number), 50 * (p99Ratios[round] as number), {
          user: 60,
          system: 20,
        }),
      ),
    ),
    server(
      'iris/batch-off',
      'modelgate',
      BARE_RPS.map((rps) => run(rps * 1.05, 60)),
    ),
  ]);

const ordersOf = <T>(servers: T[], rounds: number) =>
  Array.from({ length: rounds }, (_, round) => balancedOrder(servers, round));

/** How often each server ran right after each other one within a round, every ordered pair listed. */
function predecessorCounts<T>(orders: T[][]): Map<string, number> {
  const servers = orders[0] ?? [];
  const counts = new Map<string, number>();
  for (const before of servers) {
    for (const after of servers) if (before !== after) counts.set(`${before}→${after}`, 0);
  }
  for (const order of orders) {
    for (let i = 1; i < order.length; i++) {
      const pair = `${order[i - 1]}→${order[i]}`;
      counts.set(pair, (counts.get(pair) ?? 0) + 1);
    }
  }
  return counts;
}

/** How often each server ran at each position, server by server. */
const positionCounts = <T>(orders: T[][]) =>
  (orders[0] ?? []).flatMap((server) =>
    (orders[0] ?? []).map(
      (_, position) => orders.filter((order) => order[position] === server).length,
    ),
  );

const flips: FlipResult = {
  steady: load(10_000, 20),
  during: load(10_000, 21),
  steadyAfter: load(10_000, 20),
  flips: 50,
  flipsFailed: 0,
  flipMaxMs: 5,
};

describe('bench rounds: order, medians and ratios taken within a round', () => {
  it('orders each round so each server follows each other equally often over a whole design (Williams)', () => {
    // The four iris servers of the default rounds: over 4 rounds each of the 12 ordered pairs
    // is adjacent once and each server takes each position once.
    const iris = ['floor', 'bare', 'off', 'on'];
    const irisOrders = ordersOf(iris, 4);
    expect(irisOrders[0]).toEqual(['floor', 'bare', 'on', 'off']);
    expect([...predecessorCounts(irisOrders).values()]).toEqual(Array(12).fill(1));
    expect(positionCounts(irisOrders)).toEqual(Array(16).fill(1));
    // The default 5 rounds: the fifth repeats the first, so bare follows the floor twice at
    // most (a fixed order rotated by one each round had it follow the floor in 4 of 5).
    const five = predecessorCounts(ordersOf(iris, 5));
    expect(Math.max(...five.values())).toBe(2);
    expect(Math.min(...five.values())).toBe(1);
    // --heavy-rounds: the floor, three iris and four heavy servers, each of the 56 ordered pairs
    // once in 8 rounds.
    const eight = predecessorCounts(ordersOf([0, 1, 2, 3, 4, 5, 6, 7], 8));
    expect([...eight.values()]).toEqual(Array(56).fill(1));
    // An odd count: each order and its reverse, each of the 20 pairs twice over 10 rounds.
    const odd = ordersOf(['a', 'b', 'c', 'd', 'e'], 10);
    expect(odd[1]).toEqual([...(odd[0] ?? [])].reverse());
    expect([...predecessorCounts(odd).values()]).toEqual(Array(20).fill(2));
    expect(positionCounts(odd)).toEqual(Array(25).fill(2));
    expect(balancedOrder([], 3)).toEqual([]);
  });

  it('keeps every partial design within one follow of even (two for an odd count)', () => {
    for (let n = 2; n <= 9; n++) {
      const servers = Array.from({ length: n }, (_, i) => i);
      const period = n % 2 === 0 ? n : 2 * n;
      for (let rounds = 1; rounds <= 3 * period; rounds++) {
        const counts = [...predecessorCounts(ordersOf(servers, rounds)).values()];
        const gap = Math.max(...counts) - Math.min(...counts);
        expect(gap, `${n} servers, ${rounds} rounds`).toBeLessThanOrEqual(n % 2 === 0 ? 1 : 2);
        if (rounds % period === 0) expect(gap, `${n} servers, ${rounds} rounds`).toBe(0);
      }
    }
  });

  it('takes the middle value, the mean of the middle two for an even count, NaN if any is NaN', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
    expect(median([1, Number.NaN, 2])).toBeNaN();
    expect(median([])).toBeNaN();
  });

  it("gives each config the median of each round's ratio to the same round's bare, with min and max", () => {
    const summaries = summarizeRounds(drifting());
    const defaults = summaries.find((summary) => summary.id === 'iris/batch-on');
    const bare = summaries.find((summary) => summary.id === 'iris/bare');
    expect(defaults?.ratio?.median).toBeCloseTo(2.05, 10);
    expect(defaults?.ratio?.min).toBeCloseTo(1.3, 10);
    expect(defaults?.ratio?.max).toBeCloseTo(2.2, 10);
    // Not the ratio of the medians, which mixes rounds the machine ran at different speeds.
    expect((defaults?.rps.median ?? 0) / (bare?.rps.median ?? 1)).toBeCloseTo(15_600 / 9_000, 10);
    expect(defaults?.p99Ratio).toBeCloseTo(0.9, 10);
    expect(bare?.ratio).toBeNull();
    expect(bare?.p99Ratio).toBeNull();
    expect(bare?.rps).toEqual({ median: 9_000, min: 4_000, max: 12_000 });
    expect(defaults?.cpuUserUsPerRequest).toBe(60);
    expect(defaults?.cpuSystemUsPerRequest).toBe(20);
  });

  it('gives the floor its CPU per request as a share of every other server, round by round', () => {
    const shares = floorShares(drifting());
    expect(shares.map(({ id, share }) => [id, share.median])).toEqual([
      ['iris/bare', 0.5],
      ['iris/batch-on', 50 / 80],
      ['iris/batch-off', 0.5],
    ]);
    expect(floorLine(drifting())).toContain('iris/bare 50 %');
  });

  it('judges the iris targets on the median per-round ratio, p99 on the median per-round p99 ratio', () => {
    // A c=64 single run of the same servers (1.00×) does not override the rounds.
    const single = [
      server('iris/bare', 'bare', [run(9_000, 50)]),
      server('iris/batch-on', 'modelgate', [run(9_000, 50)]),
    ];
    const targets = ratioTargets(single, drifting());
    const on = targets.find((target) => target.id === 'iris-on');
    const off = targets.find((target) => target.id === 'iris-off');
    // 2.05 ≥ 2.0 passes although the medians taken apart read 1.73×.
    expect(on?.pass).toBe(true);
    expect(on?.detail).toContain('median of 5 per-round ratios 2.05× (min 1.30×, max 2.20×)');
    expect(off?.pass).toBe(false);
    expect(off?.detail).toContain('1.05×');
    // The heavy model was in neither the rounds nor the single runs.
    expect(targets.map((target) => target.id)).toEqual(['iris-on', 'iris-off']);

    // p99 above bare's in three rounds of five: the target misses on p99 alone.
    const slowTail = ratioTargets([], drifting([1.1, 0.9, 1.2, 1.3, 0.95]));
    const onSlow = slowTail.find((target) => target.id === 'iris-on');
    expect(onSlow?.pass).toBe(false);
    expect(onSlow?.detail).toContain('median per-round p99 ratio 1.10×');
  });

  it('judges a server outside the rounds on its single c=64 run', () => {
    const single = [
      server('heavy/bare', 'bare', [run(1_000, 900)], 'heavy'),
      server('heavy/modelgate', 'modelgate', [run(6_000, 50)], 'heavy'),
    ];
    const heavy = ratioTargets(single, drifting()).find((target) => target.id === 'heavy');
    expect(heavy?.pass).toBe(true);
    expect(heavy?.detail).toContain('one run 6.00×');
  });

  it("counts the rounds' modelgate RSS in the RSS target, not the floor's", () => {
    const rounds = drifting();
    const floor = rounds.servers.find((s) => s.kind === 'floor');
    for (const floorRun of floor?.runs ?? []) floorRun.rssMaxMb = 900;
    const rss = () => evaluateTargets([], rounds, flips, null).find((t) => t.id === 'rss');
    expect(rss()?.pass).toBe(true);
    const off = rounds.servers.find((s) => s.id === 'iris/batch-off');
    if (off?.runs[2]) off.runs[2].rssMaxMb = 310;
    expect(rss()?.pass).toBe(false);
    expect(rss()?.detail).toContain('max 310 MB');
  });

  it("shows '–' for CPU where there is no /proc, and the rows logged over all rounds", () => {
    const noProc = { user: Number.NaN, system: Number.NaN };
    const rounds = roundsOf([
      server('iris/bare', 'bare', [run(100, 10, noProc), run(100, 10, noProc)]),
      server('iris/batch-on', 'modelgate', [
        run(200, 10, noProc, { rowsWritten: 2_000 }),
        run(200, 10, noProc, { rowsWritten: 2_001, problem: 'rows logged 2001 ≠ 2xx 2000' }),
      ]),
    ]);
    const rows = roundsTable(rounds, true).split('\n');
    expect(rows[2]).toBe(
      '| iris/bare | 100 | 100–100 | 2.50 | 10.00 | – | – | – | – | – | – | – |',
    );
    expect(rows[3]).toBe(
      '| iris/batch-on | 200 | 200–200 | 2.50 | 10.00 | 2.00 | 2.00–2.00 | 1.00 | – | – | – | 4001 (!) |',
    );
  });

  it("puts a model's servers in the rounds all together or not at all, the heavy model's four with --heavy-rounds", () => {
    const all = scenarios('/models', '/models/heavy/v1');
    const inRoundsOf = (heavyRounds: boolean) =>
      all.filter((scenario) => inRounds(scenario, heavyRounds)).map((scenario) => scenario.id);
    expect(inRoundsOf(false)).toEqual([
      'iris/floor',
      'iris/bare',
      'iris/batch-off',
      'iris/batch-on',
    ]);
    expect(inRoundsOf(true)).toEqual([
      ...inRoundsOf(false),
      'heavy/bare',
      'heavy/inline',
      'heavy/intra-op-2',
      'heavy/modelgate',
    ]);
    for (const heavyRounds of [false, true]) {
      for (const model of ['iris', 'heavy'] as const) {
        const verdicts = all
          .filter((scenario) => scenario.model === model)
          .map((scenario) => inRounds(scenario, heavyRounds));
        expect(new Set(verdicts).size, `${model}, --heavy-rounds ${heavyRounds}`).toBe(1);
      }
    }
  });

  it('sets the worker thread against intra-op threads from the same rounds, or from single runs, never one of each', () => {
    // Worker over intra-op per round 1.2, 0.9, 1.1, 1.3, 0.8: median 1.10 on a machine whose
    // speed swings by 2× between rounds (the medians of req/s taken apart give 4,800 / 4,500 = 1.07).
    const heavyBare = [1_000, 500, 900, 400, 1_200];
    const workerOverIntraOp = [1.2, 0.9, 1.1, 1.3, 0.8];
    const heavy = roundsOf([
      server(
        'heavy/bare',
        'bare',
        heavyBare.map((rps) => run(rps, 900)),
        'heavy',
      ),
      server(
        'heavy/inline',
        'modelgate',
        heavyBare.map((rps) => run(rps * 4, 80)),
        'heavy',
      ),
      server(
        'heavy/intra-op-2',
        'modelgate',
        heavyBare.map((rps) => run(rps * 5, 60, { user: 240, system: 20 })),
        'heavy',
      ),
      server(
        'heavy/modelgate',
        'modelgate',
        heavyBare.map((rps, round) => run(rps * 5 * (workerOverIntraOp[round] as number), 50)),
        'heavy',
      ),
    ]);
    // A single c=64 run of intra-op from before the rounds (twice as fast) does not enter.
    const single = [server('heavy/intra-op-2', 'modelgate', [run(12_000, 40)], 'heavy')];
    const line = placementLine(single, heavy);
    expect(line).toContain('medians of the same 5 rounds');
    expect(line).toContain(
      'inline with 2 intra-op threads 4500 req/s, p99 60.0 ms, 260 µs CPU/req',
    );
    expect(line).toContain(
      'worker/intra-op req/s median of 5 per-round ratios 1.10× (min 0.80×, max 1.30×)',
    );
    expect(line).toContain('the worker thread wins');
    // × bare of the servers beside the defaults comes from the same rounds' bare.
    const rows = roundsTable(heavy, true).split('\n');
    expect(rows.find((row) => row.startsWith('| heavy/inline |'))).toContain(
      '| 4.00 | 4.00–4.00 |',
    );

    // The worker only in the rounds, intra-op only in a single run: no line at all.
    const workerOnly = roundsOf(heavy.servers.filter((s) => s.id !== 'heavy/intra-op-2'));
    expect(placementLine(single, workerOnly)).toBeNull();

    // Both from single runs, when the heavy model is outside the rounds.
    const singles = [...single, server('heavy/modelgate', 'modelgate', [run(10_800, 45)], 'heavy')];
    const fromSingles = placementLine(singles, drifting());
    expect(fromSingles).toContain('one run each');
    expect(fromSingles).toContain('worker/intra-op req/s 0.90×: 2 intra-op threads inline wins');
  });
});
