/**
 * @module app/workers/worker-main
 * The entry point of a `--workers` worker process: a data plane steered by its primary over IPC. It
 * holds no control state of its own and ends with its primary.
 */
import type { LevelWithSilent } from 'pino';

import type { ControlMessage, DataMessage } from '../../core/data-channel.js';
import { createLogger, LOG_LEVELS } from '../../core/logger.js';
import { serveAsTold } from '../../proxy/channel-agent.js';
import { ipcChannel } from './ipc-channel.js';

const level = process.env['SWITCHYARD_LOG_LEVEL'] as LevelWithSilent | undefined;
const slot = Number(process.env['SWITCHYARD_WORKER']);
const log = createLogger({ level: level && LOG_LEVELS.includes(level) ? level : 'info' }).child({
  component: 'proxy',
  worker: slot,
});

// A terminal's Ctrl-C reaches the whole process group: a worker drains when its primary says so, not before.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);

await serveAsTold(ipcChannel<ControlMessage, DataMessage>(process), log, { name: `worker ${slot}` });
// Sent messages (the last stats, `drained`) are flushed by disconnecting, then nothing is left to run.
if (process.connected) process.disconnect();
process.exitCode = 0;
