/**
 * Runs `switchyard serve --config FILE` (the bin the global setup built) as a child process, as an
 * operator would, and reads its JSON log lines; every child still running when a test ends is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';

import { inject, onTestFinished } from 'vitest';

/** A running `switchyard serve`. */
export interface ServedChild {
  readonly child: ChildProcess;
  /** The URLs it logged once serving: `production`, `control` and, when configured, `test`. */
  readonly urls: Readonly<Record<string, string>>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every JSON log line so far. */
  readonly logs: () => { msg?: string; [k: string]: unknown }[];
  /** What it wrote to stderr so far. */
  readonly stderr: () => string;
}

/** Starts `serve --config file ...args` and resolves once it logs that it is serving (rejects if it exits first). */
export async function serveChild(
  file: string,
  env: NodeJS.ProcessEnv = {},
  args: readonly string[] = [],
): Promise<ServedChild> {
  const child = spawn(process.execPath, [inject('cliMain'), 'serve', '--config', file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines: { msg?: string; [k: string]: unknown }[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let buffered = '';
  const urls = await new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        try {
          const entry = JSON.parse(line) as { msg?: string; urls?: Record<string, string> };
          lines.push(entry);
          if (entry.msg === 'switchyard is serving') resolve(entry.urls!);
        } catch {
          // not a log line
        }
      }
    });
    void exit.then(({ code, signal }) =>
      reject(new Error(`switchyard exited (${code ?? signal}) before serving:\n${stderr}`)),
    );
  });
  return { child, urls, exit, logs: () => lines, stderr: () => stderr };
}
