import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isName } from '../names.js';

export interface ModelLocation {
  model: string;
  version: string;
  dir: string;
}

/** Sorts versions the way people number them: v2 < v10, 1.2 < 1.10. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' });
}

const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();
const subdirs = (path: string) =>
  readdirSync(path).filter((entry) => isName(entry) && isDir(join(path, entry)));

/**
 * Every `<model>/<version>/` directory under `modelsDir`, complete or not: a
 * version missing its model.onnx or model.json is reported as failed when it is
 * loaded, not skipped in silence.
 */
export function scanModelsDir(modelsDir: string): ModelLocation[] {
  const found: ModelLocation[] = [];
  for (const model of subdirs(modelsDir).sort()) {
    for (const version of subdirs(join(modelsDir, model)).sort(compareVersions)) {
      found.push({ model, version, dir: join(modelsDir, model, version) });
    }
  }
  return found;
}

export const isModelsDir = isDir;

export function locateVersion(modelsDir: string, model: string, version: string): ModelLocation {
  return { model, version, dir: join(modelsDir, model, version) };
}
