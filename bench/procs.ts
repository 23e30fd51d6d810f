/**
 * @module bench/procs
 * Child processes of the bench: spawned (optionally pinned to one core with taskset), tracked, and always
 * reaped — after a normal run, on errors and on Ctrl-C — so that no peer outlives the bench.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

/** A running child process and what it has printed lately. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
  /** The last few kilobytes of stdout and stderr, for error messages. */
  output(): string;
  /** Resolves with the first stdout line `match` accepts; rejects if the child exits or time runs out. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Pin the process (and its descendants) to this core with taskset. */
  readonly core?: number | undefined;
  /**
   * Keep a pipe on the child's stdin. The bench's own child scripts exit when it closes, so they die with
   * the bench even if it is killed with SIGKILL and no cleanup runs.
   */
  readonly stdinPipe?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

const TAIL_CHARS = 8_192;
const live = new Set<Child>();

/** Whether `command` can be run at all (it is on PATH and starts). */
export function hasCommand(command: string, args: readonly string[] = ['--version']): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.error === undefined;
}

/** Pins the calling process, all its threads included, to `core`; false when taskset refused. */
export function pinSelf(core: number): boolean {
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/** Starts a tracked child process. */
export function startChild(name: string, command: string, args: readonly string[], options: StartOptions = {}): Child {
  // taskset execs the command, so the pid stays the pinned program's own pid.
  const [cmd, argv] =
    options.core === undefined ? [command, [...args]] : ['taskset', ['-c', String(options.core), command, ...args]];
  const proc = spawn(cmd, argv, {
    stdio: [options.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  let tail = '';
  let partial = '';
  const lineWaiters = new Set<(line: string) => void>();
  const keep = (text: string) => {
    tail = (tail + text).slice(-TAIL_CHARS);
  };
  proc.stdout!.setEncoding('utf8');
  proc.stderr!.setEncoding('utf8');
  proc.stdout!.on('data', (text: string) => {
    keep(text);
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) for (const w of lineWaiters) w(line);
  });
  proc.stderr!.on('data', keep);
  proc.stdin?.on('error', () => undefined);

  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
    proc.once('error', () => {
      live.delete(child);
      resolve(null);
    });
  });

  const child: Child = {
    name,
    pid: proc.pid,
    proc,
    exited,
    output: () => tail,
    waitForLine(match, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          lineWaiters.delete(onLine);
        };
        const onLine = (line: string) => {
          if (!match(line)) return;
          done();
          resolve(line);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: not ready after ${timeoutMs} ms\n${tail}`));
        }, timeoutMs);
        lineWaiters.add(onLine);
        void exited.then((code) => {
          if (!lineWaiters.has(onLine)) return;
          done();
          reject(new Error(`${name}: exited (code ${code}) before it was ready\n${tail}`));
        });
      });
    },
    async stop(graceMs = 5_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(child);
  return child;
}

/** Stops every child still running, politely first. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(2_000)));
}

/**
 * Makes sure children die with the bench: on SIGINT/SIGTERM they are stopped and `cleanup` runs before
 * exiting; on any other exit whatever is left is killed synchronously.
 */
export function installCleanup(cleanup: () => void): void {
  let cleaned = false;
  const cleanOnce = () => {
    if (cleaned) return;
    cleaned = true;
    cleanup();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping peers\n`);
    void stopAll().finally(() => {
      cleanOnce();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => {
    for (const c of live) c.proc.kill('SIGKILL');
    cleanOnce();
  });
}
