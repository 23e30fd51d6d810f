/**
 * @module core/package-root
 * Finds files shipped with the package (config/demo.yml, the dashboard, the lab report's scripts) wherever it is installed or built.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding switchyard's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'config'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the switchyard package folder');
    dir = up;
  }
}
