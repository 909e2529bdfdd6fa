import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './child-gateway.js';

/** Newest modification time of any file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * vitest globalSetup. Tests that spawn the gateway run the real start command
 * (`npm start` = `node dist/main.js`), so dist/ must match src/. CI's `npm ci` builds
 * it (the `prepare` script); locally this rebuilds once per run when src/ is newer.
 */
export default function buildDist(): void {
  // Written by the build's last step, after it copies non-TypeScript files (client.js).
  const built = join(PROJECT_ROOT, 'dist/.built');
  const sources = [join(PROJECT_ROOT, 'src'), join(PROJECT_ROOT, 'tsconfig.build.json')];
  const newestSource = Math.max(
    newestMtime(sources[0] as string),
    statSync(sources[1] as string).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
}
