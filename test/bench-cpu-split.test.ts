import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProcStatCpu } from '../scripts/bench/proc-stat.js';

describe('bench CPU split from /proc/<pid>/stat', () => {
  it('reads utime and stime after the command name, even one holding spaces and parentheses', () => {
    const stat =
      '4242 (node (tsx) x) S 1 4242 4242 0 -1 4194560 3158 0 0 0 1234 56 0 0 20 0 11 0 9000 1 2';
    expect(parseProcStatCpu(stat, 100)).toEqual({ userS: 12.34, systemS: 0.56 });
    expect(parseProcStatCpu(stat, 1000)).toEqual({ userS: 1.234, systemS: 0.056 });
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseProcStatCpu('no parentheses here', 100)).toThrow(/not a \/proc/);
    expect(() => parseProcStatCpu('1 (x) S 1 2', 100)).toThrow(/not a \/proc/);
  });

  it("agrees with the process's own count of its user and system time", () => {
    const spinUntil = performance.now() + 300;
    let spins = 0;
    while (performance.now() < spinUntil) spins++;
    expect(spins).toBeGreaterThan(0);
    const times = parseProcStatCpu(readFileSync('/proc/self/stat', 'utf8'), 100);
    const own = process.cpuUsage();
    // /proc counts in 10 ms ticks; cpuUsage in µs, read a moment later.
    expect(times.userS).toBeGreaterThan(0.2);
    expect(Math.abs(times.userS - own.user / 1e6)).toBeLessThan(0.05);
    expect(Math.abs(times.systemS - own.system / 1e6)).toBeLessThan(0.05);
  });
});
