/**
 * A temporary folder for one test file: made before its tests, removed with everything in it after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll } from 'vitest';

/** Registers the folder's making and removal; call `path()` inside tests for its path. */
export function tempDir(prefix: string): { path: () => string } {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    path: () => {
      if (!dir) throw new Error('tempDir is only ready inside tests');
      return dir;
    },
  };
}
