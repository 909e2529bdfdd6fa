/** User and system CPU time of a process, in seconds. */
export interface CpuTimes {
  userS: number;
  systemS: number;
}

/**
 * utime and stime from the text of /proc/<pid>/stat, in seconds. The command name (field 2) is
 * in parentheses and may itself hold spaces and parentheses, so fields are counted from the
 * last ')': after it come state (field 3) onwards, which puts utime (14) and stime (15) at
 * offsets 11 and 12.
 */
export function parseProcStatCpu(stat: string, ticksPerSecond: number): CpuTimes {
  const close = stat.lastIndexOf(')');
  const fields = close === -1 ? [] : stat.slice(close + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  }
  return { userS: utime / ticksPerSecond, systemS: stime / ticksPerSecond };
}
