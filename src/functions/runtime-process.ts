/**
 * @module functions/runtime-process
 * One runtime process and its Runtime API: started in a process group of its own so that everything it
 * starts (the tutorial's bootstrap runs curl) is killed with it, its output split into lines.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { SwitchyardError } from '../core/errors.js';
import type { ProcessLedger } from '../core/process-ledger.js';
import { RuntimeApi } from './runtime-api.js';

/** How a runtime process ended. */
export interface RuntimeExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** What ends Init: the first `next`, or an init error posted by the runtime. */
export type InitEnd =
  | { readonly kind: 'ready' }
  | { readonly kind: 'init-error'; readonly body: Buffer; readonly errorTypeHeader: string | undefined };

/** What to start: the program with its arguments, where, with which environment. */
export interface RuntimeCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The environment, without AWS_LAMBDA_RUNTIME_API (added once the API listens). */
  readonly env: Readonly<Record<string, string>>;
}

/** Where a started process group is written down, so a later start can stop it if switchyard was killed. */
export interface LedgerEntry {
  readonly ledger: ProcessLedger;
  readonly what: string;
}

/** A started runtime process with its own Runtime API. */
export class RuntimeProcess {
  /** Settles when Init ends (first `next` or init error); never rejects. */
  readonly initEnd: Promise<InitEnd>;
  /** Settles when the process has exited. */
  readonly exited: Promise<RuntimeExit>;
  private child: ChildProcess | undefined;
  private exitedWith: RuntimeExit | undefined;
  private endInit!: (end: InitEnd) => void;
  private markExited!: (exit: RuntimeExit) => void;

  private constructor(readonly api: RuntimeApiHolder) {
    this.initEnd = new Promise((resolve) => (this.endInit = resolve));
    this.exited = new Promise((resolve) => (this.markExited = resolve));
  }

  /** Starts the Runtime API, then the process; `onLine` gets each line it writes. */
  static async start(
    command: RuntimeCommand,
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
    ledger?: LedgerEntry,
  ) {
    const holder: RuntimeApiHolder = {} as RuntimeApiHolder;
    const proc = new RuntimeProcess(holder);
    holder.api = new RuntimeApi({
      onNext: () => proc.endInit({ kind: 'ready' }),
      onInitError: (body, errorTypeHeader) => proc.endInit({ kind: 'init-error', body, errorTypeHeader }),
    });
    const address = await holder.api.listen();
    const child = spawn(command.file, [...command.args], {
      cwd: command.cwd,
      env: { ...command.env, AWS_LAMBDA_RUNTIME_API: address },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A group of its own: killing the group reaches the runtime's own children too.
      detached: true,
    });
    proc.child = child;
    const pid = child.pid;
    if (pid !== undefined) ledger?.ledger.started(pid, ledger.what);
    child.once('exit', (exitCode, signal) => {
      if (pid !== undefined) ledger?.ledger.ended(pid);
      proc.exitedWith = { exitCode, signal };
      proc.markExited(proc.exitedWith);
    });
    child.once('error', (err) => {
      proc.exitedWith = { exitCode: 127, signal: null };
      onLine('stderr', `cannot start ${command.file}: ${err.message}`);
      proc.markExited(proc.exitedWith);
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = child[stream];
      if (readable) createInterface({ input: readable, crlfDelay: Infinity }).on('line', (l) => onLine(stream, l));
    }
    return proc;
  }

  /** True once the process has exited (on its own or killed). */
  get hasExited(): boolean {
    return this.exitedWith !== undefined;
  }

  /** The process id, while it has one. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Kills the process group and waits for the exit, then closes the Runtime API. */
  async kill(): Promise<RuntimeExit> {
    const pid = this.child?.pid;
    if (pid !== undefined && this.exitedWith === undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // The group is already gone; the exit event is on its way.
      }
    }
    const exit = pid === undefined ? { exitCode: 127, signal: null } : await this.exited;
    await this.api.api.close();
    return exit;
  }
}

/** Lets the API's listener be wired to the process before the API exists. */
interface RuntimeApiHolder {
  api: RuntimeApi;
}

/**
 * The command for a version: its own `bootstrap` (custom runtime), else switchyard's Node bootstrap for a
 * handler. A bootstrap whose shebang is `/bin/sh` runs under bash, as Amazon Linux's sh is bash and the
 * tutorial's script uses bash features (`pipefail`, `source`) that a POSIX sh such as dash rejects.
 */
export function runtimeCommand(
  runtime: 'provided' | 'nodejs',
  taskRoot: string,
  nodeBootstrap: string,
  env: Readonly<Record<string, string>>,
  bootstrap = join(taskRoot, 'bootstrap'),
): RuntimeCommand {
  if (runtime === 'nodejs') return { file: process.execPath, args: [nodeBootstrap], cwd: taskRoot, env };
  let firstLine: string;
  try {
    firstLine = readFileSync(bootstrap, 'utf8').split('\n', 1)[0] ?? '';
  } catch (err) {
    throw new SwitchyardError('VERSION_NOT_READY', `the function has no readable bootstrap at ${bootstrap}`, {
      cause: err,
    });
  }
  if (/^#!\s*\/bin\/sh\b/.test(firstLine)) return { file: 'bash', args: [bootstrap], cwd: taskRoot, env };
  return { file: bootstrap, args: [], cwd: taskRoot, env };
}
