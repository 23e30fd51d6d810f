/**
 * @module tasksets/task
 * One running instance of a version started by command: a process in its own process group (so a stop
 * reaches a shell and everything it started), listening on the port handed to it in PORT. Its output is
 * logged line by line and its last lines kept for the message when it dies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

import type { Clock } from '../core/clock.js';
import { describeError } from '../core/describe-error.js';
import type { Logger } from '../core/logger.js';
import type { ProcessLedger } from '../core/process-ledger.js';
import { TailBuffer } from '../core/tail-buffer.js';

/** What a task is started from. */
export interface TaskSpec {
  readonly command: string | readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
}

/** How a task ended: its exit code or signal, and its last lines of output. */
export interface TaskExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  readonly error?: string;
  readonly tail: string;
}

/** A free TCP port on the loopback interface, as the kernel hands one out. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port was assigned'));
      });
    });
  });
}

/** A started process and the URL it serves on. */
export class Task {
  readonly url: string;
  /** Resolves once when the process has exited (or never started). */
  readonly exited: Promise<TaskExit>;
  #child: ChildProcess | undefined;
  #done = false;
  readonly #tail = new TailBuffer();

  constructor(
    spec: TaskSpec,
    port: number,
    env: Readonly<Record<string, string>>,
    log: Logger,
    ledger?: ProcessLedger,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    const command = spec.command;
    const [file, args] = typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0]!, command.slice(1)];
    this.exited = new Promise<TaskExit>((resolve) => {
      const finish = (exit: Omit<TaskExit, 'tail'>) => {
        if (this.#done) return;
        this.#done = true;
        resolve({ ...exit, tail: this.#tail.tail() });
      };
      let child: ChildProcess;
      try {
        child = spawn(file, args, {
          cwd: spec.cwd,
          env: { ...process.env, ...spec.env, ...env, PORT: String(port) },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
      } catch (err) {
        finish({ code: null, signal: null, error: describeError(err) });
        return;
      }
      this.#child = child;
      const pid = child.pid;
      if (pid !== undefined) {
        ledger?.started(
          pid,
          `${env['SWITCHYARD_SERVICE'] ?? '?'} version ${env['SWITCHYARD_VERSION'] ?? '?'} instance ${env['SWITCHYARD_INSTANCE'] ?? '?'}`,
        );
        child.once('exit', () => ledger?.ended(pid));
      }
      for (const [stream, name] of [
        [child.stdout, 'stdout'],
        [child.stderr, 'stderr'],
      ] as const) {
        if (!stream) continue;
        stream.on('data', (chunk: Buffer) => this.#tail.push(chunk, name));
        createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => log.info({ stream: name }, line));
      }
      child.on('error', (err: NodeJS.ErrnoException) => {
        // After a successful start, 'error' means a failed kill; the exit still ends the task.
        if (child.pid !== undefined) return;
        const where = spec.cwd ? ` (cwd ${spec.cwd})` : '';
        const why = err.code === 'ENOENT' ? `command not found: ${file}${where}` : err.message;
        finish({ code: null, signal: null, error: why });
      });
      child.on('exit', (code, signal) => finish({ code, signal }));
    });
  }

  /** The process id, once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether the process has exited. */
  get done(): boolean {
    return this.#done;
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs` on `clock`; resolves when it has exited. */
  async stop(clock: Clock, graceMs: number): Promise<TaskExit> {
    if (!this.#done) {
      this.#signal('SIGTERM');
      const cancel = clock.setTimer(graceMs, () => this.#signal('SIGKILL'));
      void this.exited.then(cancel);
    }
    return this.exited;
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (this.#done || pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      this.#child?.kill(signal);
    }
  }
}

/** A task's end in words: `exited with code 1`, `was killed by SIGKILL`, or why it never started. */
export function describeExit(exit: TaskExit): string {
  if (exit.error) return `could not start: ${exit.error}`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  if (exit.code === 127) return 'exited with code 127 (command not found)';
  return `exited with code ${exit.code ?? 'unknown'}`;
}
