/**
 * Runs the `switchyard` bin that the global setup built, as a user would: a child process from the
 * repository folder, with only PATH and the given variables in its environment.
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';

import { inject, onTestFinished } from 'vitest';

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

/** A run of the bin still going: wait for a piece of its output, or for the end. */
export interface StartedCli {
  /** Resolves once its stdout so far contains `text`; rejects if it ends first. */
  printed(text: string): Promise<void>;
  /** Resolves like {@link runCli}. */
  readonly done: Promise<CliRun>;
}

/**
 * Starts the bin like {@link runCli}, but lets the test wait for a line of its output while it runs.
 * Killed after `timeoutMs`, and when the test ends, whatever happened.
 */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000): StartedCli {
  const child = spawn(process.execPath, [inject('cliMain'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  const watchers: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const w of watchers.filter((x) => stdout.includes(x.text))) w.resolve();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliRun>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  const printed = (text: string) =>
    Promise.race([
      new Promise<void>((resolve) => (stdout.includes(text) ? resolve() : watchers.push({ text, resolve }))),
      done.then((r) => {
        throw new Error(`exited with ${r.code} before printing "${text}": ${r.stdout}${r.stderr}`);
      }),
    ]);
  return { printed, done };
}
