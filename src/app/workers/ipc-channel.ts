/**
 * @module app/workers/ipc-channel
 * The data channel over node:cluster's IPC: one implementation of core/data-channel's Channel, used by
 * the primary for each worker and by a worker for its primary.
 */
import type { Channel } from '../../core/data-channel.js';

/** What a cluster worker (seen from the primary) and a forked process (seen from itself) both offer. */
export interface IpcEnd {
  send?(message: unknown, callback?: (err: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

/** A Channel over `end`'s IPC; a send to an end already gone is dropped (its exit is handled elsewhere). */
export function ipcChannel<In, Out>(end: IpcEnd): Channel<In, Out> {
  return {
    send(message) {
      end.send?.(message, () => undefined);
    },
    onMessage(listener) {
      // Messages are this protocol's own: cluster's internal messages travel on another event.
      end.on('message', (message) => listener(message as In));
    },
    onClose(listener) {
      end.once('disconnect', listener);
    },
  };
}
