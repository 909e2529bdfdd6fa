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

/** Finds every `<model>/<version>/model.onnx` with its model.json under `modelsDir`. */
export function scanModelsDir(modelsDir: string): ModelLocation[] {
  if (!isDir(modelsDir)) return [];
  const found: ModelLocation[] = [];
  for (const model of subdirs(modelsDir).sort()) {
    for (const version of subdirs(join(modelsDir, model)).sort(compareVersions)) {
      const dir = join(modelsDir, model, version);
      if (existsSync(join(dir, 'model.onnx')) && existsSync(join(dir, 'model.json'))) {
        found.push({ model, version, dir });
      }
    }
  }
  return found;
}

export function locateVersion(modelsDir: string, model: string, version: string): ModelLocation {
  return { model, version, dir: join(modelsDir, model, version) };
}
