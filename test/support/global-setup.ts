/**
 * Builds the CLI once per test run into a folder of the run's own, for the tests that start the real
 * `switchyard` command in a child process. Apart from dist/ so a build running beside the tests can never
 * swap modules under a child; beside it, links to what the package root holds at run time.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the built CLI entry point (`…/src/cli/main.js`). */
    cliMain: string;
  }
}

const ROOT = join(import.meta.dirname, '..', '..');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-test-cli-'));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['-p', 'tsconfig.build.json', '--outDir', dir, '--declaration', 'false', '--sourceMap', 'false'];
  try {
    await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: ROOT });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`building the CLI for the tests failed:\n${(err as { stdout?: string }).stdout ?? String(err)}`);
  }
  for (const name of ['package.json', 'config', 'dashboard', 'node_modules'])
    await symlink(join(ROOT, name), join(dir, name));
  project.provide('cliMain', join(dir, 'src', 'cli', 'main.js'));
  return () => rm(dir, { recursive: true, force: true });
}
