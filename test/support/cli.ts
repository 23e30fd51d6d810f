/**
 * Runs the `switchyard` bin that the global setup built, as a user would: a child process from the
 * repository folder, with only PATH and the given variables in its environment.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';

/** The repository folder: relative paths in tests (config/example.yml) resolve from here. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** What a finished run of the bin left. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the bin to completion (killed after `timeoutMs`) without blocking this process. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [inject('cliMain'), ...args],
      { cwd: ROOT, env: { PATH: process.env['PATH'], ...env }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
