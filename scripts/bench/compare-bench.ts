/**
 * Hook for the lead: compare-query timing (GET /compare / src/compare/report.ts) on
 * 1,000,000 prediction rows goes here. run.ts calls it after the load runs and puts
 * whatever it returns under `compare` in the JSON and as its own section in the report.
 */
export interface CompareBenchResult {
  rows: number;
  /** Free-form lines for the report table, e.g. "compare iris v1 vs v2: 84 ms". */
  lines: string[];
}

export async function compareBench(): Promise<CompareBenchResult | null> {
  process.stderr.write('compare bench: not wired yet\n');
  return null;
}
