/**
 * A start that fails part way leaves nothing behind: here the control port is taken, so the start fails
 * at its last step, after the live version run by command has started and the data plane listens. The
 * process is stopped, the listeners' ports are free again, no timer or socket is left to keep the
 * process alive, and the store is closed.
 */
import { type AddressInfo, createServer, type Server } from 'node:net';
import { join } from 'node:path';

import { describe, expect, it, onTestFinished } from 'vitest';

import { startSwitchyard } from '../../src/app/start.js';
import { type Clock, systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import type { DeploymentStore } from '../../src/shifting/ports.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { alive } from '../support/processes.js';
import { configFrom } from '../support/switchyard.js';
import { closedPort } from '../support/upstream.js';

const SERVER = join(import.meta.dirname, '..', 'support', 'version-server.mjs');

async function listening(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

const closed = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** The system clock, counting the timers set on it that have neither fired nor been cancelled. */
function countingClock(): { clock: Clock; pending: () => number } {
  let pending = 0;
  const clock: Clock = {
    now: () => systemClock.now(),
    setTimer: (ms, fn) => {
      pending++;
      let done = false;
      const finish = () => {
        if (!done) pending--;
        done = true;
      };
      const cancel = systemClock.setTimer(ms, () => {
        finish();
        fn();
      });
      return () => {
        finish();
        cancel();
      };
    },
  };
  return { clock, pending: () => pending };
}

/** What keeps the process alive, as counts by kind. */
function aliveResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** What keeps the process alive now beyond what did at `before`, by kind. */
function beyond(before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(aliveResources()).filter(([kind, n]) => n > (before[kind] ?? 0)));
}

describe('a start that fails at the listen phase', () => {
  it('closes everything it built: processes, listeners, timers and the store', async () => {
    const blocker = await listening(0);
    onTestFinished(() => closed(blocker));
    const control = (blocker.address() as AddressInfo).port;
    const production = await closedPort();
    const test = await closedPort();
    const config = configFrom({
      listeners: { production: { host: '127.0.0.1', port: production }, test: { host: '127.0.0.1', port: test } },
      control: { host: '127.0.0.1', port: control },
      services: [
        {
          name: 'web',
          versions: {
            '1': {
              command: [process.execPath, SERVER],
              healthCheck: { path: '/health', interval: '25ms', timeout: '1s' },
              readyTimeout: '3s',
            },
          },
          live: '1',
        },
      ],
    });
    const memory = new MemoryStore();
    let storeClosed = false;
    const started: number[] = [];
    const store: DeploymentStore = {
      put: (kind, key, value) => {
        if (kind === 'process') started.push((value as { pid: number }).pid);
        memory.put(kind, key, value);
      },
      delete: (kind, key) => memory.delete(kind, key),
      get: (kind, key) => memory.get(kind, key),
      list: (kind) => memory.list(kind),
      transaction: (fn) => memory.transaction(fn),
      durable: () => memory.durable(),
      close: () => {
        storeClosed = true;
        memory.close();
      },
    };
    const { clock, pending } = countingClock();
    const before = aliveResources();

    await expect(
      startSwitchyard(config, { log: createLogger({ level: 'silent' }), clock, store }),
    ).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });

    // The version's process ran and has been stopped, and is no longer written down as running.
    expect(started).toHaveLength(1);
    for (const pid of started) expect(alive(pid)).toBe(false);
    expect(memory.list('process')).toEqual([]);
    expect(storeClosed).toBe(true);
    // The listeners that had opened are closed: their ports can be bound again.
    for (const port of [production, test]) await closed(await listening(port));
    expect(pending()).toBe(0);
    // No server, socket, child process or timer is left holding the process open.
    await expect.poll(() => beyond(before)).toEqual({});
  });
});
