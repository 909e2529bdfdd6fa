/**
 * npx tsx scripts/bench/profile-top.ts <file.cpuprofile> [top=25]
 *
 * Self time from a `node --cpu-prof` profile, by function and by where the code
 * lives (src/, a package in node_modules, node internals, GC, idle). Start-up is
 * left out: counting begins after the first idle stretch of 500 ms or more, so
 * wait a second between "ready" and the load.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));

function place(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.includes('/src/')) return `src/${url.split('/src/')[1]?.split('/')[0]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url === '' ? 'native / builtins' : url;
}

const isIdle = (id: number) => byId.get(id)?.callFrame.functionName === '(idle)';
let from = 0;
for (let i = 0, idleUs = 0; i < profile.samples.length; i++) {
  idleUs = isIdle(profile.samples[i] ?? -1) ? idleUs + (profile.timeDeltas[i] ?? 0) : 0;
  if (idleUs >= 500_000) {
    from = i;
    break;
  }
}

const selfByFunction = new Map<string, number>();
const selfByPlace = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id);
  const dt = profile.timeDeltas[i] ?? 0;
  if (!node || i < from) return;
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  const short = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/src\//, 'src/');
  const key = `${name}  ${short}${url ? `:${lineNumber + 1}` : ''}`;
  selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + dt);
  const where = place(url, name);
  selfByPlace.set(where, (selfByPlace.get(where) ?? 0) + dt);
  total += dt;
});

const busy = total - (selfByPlace.get('(idle)') ?? 0);
const print = (title: string, map: Map<string, number>, n: number) => {
  process.stdout.write(`\n${title} (ms, % of non-idle ${(busy / 1000).toFixed(0)} ms)\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    const pct = key === '(idle)' ? '' : `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
    process.stdout.write(`${(us / 1000).toFixed(0).padStart(7)}  ${pct.padStart(6)}  ${key}\n`);
  }
};
print('self time by place', selfByPlace, 20);
print('self time by function', selfByFunction, top);
