/**
 * Interleaved rounds: every server runs once per round, in a balanced order (balancedOrder), and a
 * ratio is taken within each round (that round's req/s over the same round's bare req/s) before
 * the median over rounds. This machine's speed drifts by tens of percent within minutes; a ratio
 * of two runs minutes apart measures that drift as much as the code, while two runs in the same
 * round share most of it, and the median drops the round a burst of someone else's work landed in.
 */
import type { ServerResult } from './report.js';
import type { ModelKey, ServerKind } from './scenarios.js';

export interface RoundsResult {
  connections: number;
  durationS: number;
  rounds: number;
  /** Server ids in the order they ran, one list per round. */
  orders: string[][];
  /** One entry per server; its runs[r] is its run in round r. */
  servers: ServerResult[];
}

/**
 * Williams' base order of n items, 0, 1, n−1, 2, n−2, 3, …: its steps +1, −2, +3, −4, … are all
 * different mod n when n is even.
 */
const williamsBase = (n: number) =>
  Array.from({ length: n }, (_, j) => (j % 2 === 1 ? (j + 1) / 2 : (n - j / 2) % n));

/**
 * The order of round `round`, balanced for carry-over (Williams 1949): whatever a server leaves
 * behind (a warm or hot core, garbage, a log still flushing) falls on the server after it, so
 * each server should follow each other server equally often, as well as take every position.
 * Rotating one fixed order does not do that: the same server follows the same one every round
 * but one. Here round r shifts Williams' base order by r (mod n): for an even number n of
 * servers its steps are all different, so over n rounds each ordered pair is adjacent exactly
 * once and each server takes each position once. For an odd n no shifted order does that, so
 * round 2k runs the base order shifted by k and round 2k+1 the same order reversed: over 2n
 * rounds each ordered pair is adjacent exactly twice and each server takes each position
 * twice. A round count that is not a whole number of those periods leaves the last rounds a
 * partial one, where a pair can follow once more than another (twice more for an odd n); the
 * last server of a round is followed by the first of the next, which the design leaves out.
 */
export function balancedOrder<T>(items: readonly T[], round: number): T[] {
  const n = items.length;
  if (n === 0) return [];
  const even = n % 2 === 0;
  const shift = (even ? round : Math.floor(round / 2)) % n;
  const order = williamsBase(n).map((index) => items[(index + shift) % n] as T);
  return !even && round % 2 === 1 ? order.reverse() : order;
}

/** The middle value; for an even count the mean of the two middle values. NaN if any is NaN. */
export function median(values: readonly number[]): number {
  if (values.length === 0 || values.some(Number.isNaN)) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

export interface RoundSummary {
  id: string;
  label: string;
  kind: ServerKind;
  model: ModelKey;
  rounds: number;
  rps: Spread;
  /** Medians over the rounds. */
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number;
  cpuUserUsPerRequest: number;
  cpuSystemUsPerRequest: number;
  /** Each round's req/s over the same round's bare req/s; null for the bare handler itself. */
  ratio: Spread | null;
  /** Median of each round's p99 over the same round's bare p99; null for the bare handler. */
  p99Ratio: number | null;
  /** Sum over the rounds; null for servers without a log. */
  rowsWritten: number | null;
  /** Every round's problem, as "round 2: …". */
  problems: string[];
}

const bareOf = (result: RoundsResult, server: ServerResult) =>
  result.servers.find((other) => other.kind === 'bare' && other.model === server.model);

/** `value(server's run) / value(base's run)` round by round. */
const perRound = (
  server: ServerResult,
  base: ServerResult,
  value: (run: ServerResult['runs'][number]) => number,
): number[] =>
  server.runs.flatMap((run, round) => {
    const baseRun = base.runs[round];
    return baseRun ? [value(run) / value(baseRun)] : [];
  });

/** Each round's req/s of `id` over the same round's req/s of `baseId`; null unless both ran. */
export function roundRatio(result: RoundsResult, id: string, baseId: string): Spread | null {
  const server = result.servers.find((candidate) => candidate.id === id);
  const base = result.servers.find((candidate) => candidate.id === baseId);
  const ratios = server && base ? perRound(server, base, (run) => run.rps) : [];
  return ratios.length > 0 ? spread(ratios) : null;
}

export function summarizeRounds(result: RoundsResult): RoundSummary[] {
  return result.servers.map((server) => {
    const of = (pick: (run: ServerResult['runs'][number]) => number) =>
      median(server.runs.map(pick));
    const bare = bareOf(result, server);
    const toBare = (value: (run: ServerResult['runs'][number]) => number) =>
      bare && bare !== server ? perRound(server, bare, value) : [];
    const ratios = toBare((run) => run.rps);
    const p99Ratios = toBare((run) => run.p99Ms);
    const logged = server.runs.map((run) => run.rowsWritten);
    return {
      id: server.id,
      label: server.label,
      kind: server.kind,
      model: server.model,
      rounds: server.runs.length,
      rps: spread(server.runs.map((run) => run.rps)),
      p50Ms: of((run) => run.p50Ms),
      p99Ms: of((run) => run.p99Ms),
      cpuUsPerRequest: of((run) => run.cpuUsPerRequest),
      cpuUserUsPerRequest: of((run) => run.cpuUserUsPerRequest),
      cpuSystemUsPerRequest: of((run) => run.cpuSystemUsPerRequest),
      ratio: ratios.length > 0 ? spread(ratios) : null,
      p99Ratio: p99Ratios.length > 0 ? median(p99Ratios) : null,
      rowsWritten: logged.some((rows) => rows === null)
        ? null
        : logged.reduce<number>((sum, rows) => sum + (rows ?? 0), 0),
      problems: server.runs.flatMap((run, round) =>
        run.problem ? [`round ${round + 1}: ${run.problem}`] : [],
      ),
    };
  });
}

export interface FloorShare {
  id: string;
  label: string;
  /** The floor's CPU per request over this server's, round by round. */
  share: Spread;
}

/** What share of each other server's CPU per request the HTTP floor spends, same model only. */
export function floorShares(result: RoundsResult): FloorShare[] {
  const shares: FloorShare[] = [];
  for (const floor of result.servers.filter((server) => server.kind === 'floor')) {
    for (const server of result.servers) {
      if (server.kind === 'floor' || server.model !== floor.model) continue;
      const perRoundShares = floor.runs.flatMap((run, round) => {
        const other = server.runs[round];
        return other ? [run.cpuUsPerRequest / other.cpuUsPerRequest] : [];
      });
      if (perRoundShares.length > 0) {
        shares.push({ id: server.id, label: server.label, share: spread(perRoundShares) });
      }
    }
  }
  return shares;
}
