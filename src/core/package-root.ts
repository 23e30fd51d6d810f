/**
 * @module core/package-root
 * Finds files shipped with the package (config/demo.yml, the dashboard's files) wherever it is installed
 * or built: from this module's own place, never from the working directory.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SwitchyardError } from './errors.js';

/** The folder holding switchyard's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'config'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new SwitchyardError('INTERNAL', 'cannot find the switchyard package folder');
    dir = up;
  }
}
