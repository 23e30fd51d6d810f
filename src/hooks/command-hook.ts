/**
 * @module hooks/command-hook
 * Command hooks: a local program stands in for CodeDeploy's hook function. It runs in its own process
 * group so that a timeout or a stop reaches everything it started (a shell and its children), and every
 * wait (kill grace, stream drain) is on the runner's clock.
 */
import { type ChildProcess, spawn } from 'node:child_process';

import type { CommandHookSpec } from '../config/hooks.js';
import type { CancelTimer, Clock } from '../core/clock.js';
import { describeError } from '../core/describe-error.js';
import type { ProcessLedger } from '../core/process-ledger.js';
import { TailBuffer } from '../core/tail-buffer.js';
import { failed, type HookAttempt, type HookEnd } from './output.js';

/** What running a command hook needs besides its spec. */
export interface CommandHookOptions {
  readonly clock: Clock;
  /** Between SIGTERM and SIGKILL; also how long a hook that reported may take to exit by itself. */
  readonly killGraceMs: number;
  /** Hears the process started and ended, so a later run can stop what a crash left running. */
  readonly processes?: ProcessLedger | undefined;
}

/**
 * After the process exits, how long to wait for its output to drain. A background child that inherited
 * stdout would otherwise hold the pipes open and turn a finished hook into a timeout.
 */
const DRAIN_WAIT_MS = 1_000;

/** Starts the command with `env` over the hook's own env; `done` is called once when it exits or cannot start. */
export function startCommandHook(
  spec: CommandHookSpec,
  env: Readonly<Record<string, string>>,
  done: (end: HookEnd) => void,
  options: CommandHookOptions,
): HookAttempt {
  const { clock, killGraceMs } = options;
  const { file, args, viaShell } = programOf(spec.command);
  const tail = new TailBuffer();
  let stopped = false;
  let ended = false;
  let exited = false;
  const timers: CancelTimer[] = [];

  const end = (outcome: HookEnd) => {
    if (ended) return;
    ended = true;
    for (const cancel of timers.splice(0)) cancel();
    if (!stopped) done(outcome);
  };

  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
  } catch (err) {
    // spawn throws synchronously only for malformed arguments; report it on the same path as the rest.
    queueMicrotask(() => end(failed('UnknownError', `command could not start: ${describeError(err)}`)));
    return { stop: () => (stopped = true), tail: () => '' };
  }

  writeDown(child, `hook ${env['LIFECYCLE_EVENT'] ?? '?'} of ${env['DEPLOYMENT_ID'] ?? '?'}`, options.processes);
  child.stdout?.on('data', (chunk: Buffer) => tail.push(chunk, 'stdout'));
  child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk, 'stderr'));

  child.on('error', (err: NodeJS.ErrnoException) => {
    // After a successful start, 'error' means a failed kill; the exit still ends the hook.
    if (child.pid !== undefined) return;
    exited = true;
    end(startFailure(err, file, spec.cwd));
  });

  const finish = (code: number | null, signal: NodeJS.Signals | null) =>
    end(exitOutcome(code, signal, viaShell, tail.tail()));
  child.on('exit', (code, signal) => {
    exited = true;
    timers.push(clock.setTimer(DRAIN_WAIT_MS, () => finish(code, signal)));
  });
  child.on('close', finish);

  const signalGroup = (signal: NodeJS.Signals) => {
    if (!exited) signalProcessGroup(child, signal);
  };
  const terminate = () => {
    signalGroup('SIGTERM');
    timers.push(clock.setTimer(killGraceMs, () => signalGroup('SIGKILL')));
  };

  return {
    stop(why) {
      if (stopped) return;
      stopped = true;
      if (exited) return;
      // A hook that reported is usually about to exit on its own; give it the grace before a signal.
      if (why === 'report') timers.push(clock.setTimer(killGraceMs, terminate));
      else terminate();
    },
    tail: () => tail.tail(),
  };
}

/** The program to run and its arguments: a command line runs in `/bin/sh -c`, a list as it is. */
function programOf(command: CommandHookSpec['command']): { file: string; args: readonly string[]; viaShell: boolean } {
  return typeof command === 'string'
    ? { file: '/bin/sh', args: ['-c', command], viaShell: true }
    : { file: command[0]!, args: command.slice(1), viaShell: false };
}

/** Writes the started process down in `ledger` (when there is one) until it exits. */
function writeDown(child: ChildProcess, what: string, ledger: ProcessLedger | undefined): void {
  const pid = child.pid;
  if (pid === undefined || !ledger) return;
  ledger.started(pid, what);
  child.once('exit', () => ledger.ended(pid));
}

/** How a command that could not start (spawn's 'error' before a pid) ends, saying why in CodeDeploy's terms. */
function startFailure(err: NodeJS.ErrnoException, file: string, cwd: string | undefined): HookEnd {
  const where = cwd ? ` (cwd ${cwd})` : '';
  if (err.code === 'ENOENT') return failed('ScriptMissing', `command not found: ${file}${where}`);
  if (err.code === 'EACCES') return failed('ScriptNotExecutable', `command is not executable: ${file}${where}`);
  return failed('UnknownError', `command could not start: ${describeError(err)}`);
}

/** Signals the whole process group the command leads (so its children too), or the command alone when that fails. */
function signalProcessGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function exitOutcome(code: number | null, signal: NodeJS.Signals | null, viaShell: boolean, logTail: string): HookEnd {
  if (code === 0) return { status: 'Succeeded', errorCode: 'Success', message: 'Succeeded', logTail };
  if (signal) return failed('ScriptFailed', `command was killed by ${signal}`, logTail);
  // The shell's own codes for "not found" and "cannot execute" (POSIX), so a typo reads as what it is.
  if (viaShell && code === 127) return failed('ScriptMissing', 'command not found (shell exit code 127)', logTail);
  if (viaShell && code === 126)
    return failed('ScriptNotExecutable', 'command is not executable (shell exit code 126)', logTail);
  return failed('ScriptFailed', `command exited with code ${code ?? 'unknown'}`, logTail);
}
