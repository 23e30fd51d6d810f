/**
 * @module app/fleet/ws-channel
 * The data channel over a WebSocket: one implementation of core/data-channel's Channel, used by the
 * control plane for each remote data plane and by a remote data plane for its control plane. Messages
 * are JSON text frames. Each end pings the other and ends a connection it has heard nothing on for a
 * while, so a peer that vanished without a FIN (a host gone, a process stopped) is noticed in seconds.
 */
import type { RawData, WebSocket } from 'ws';

import type { Clock } from '../../core/clock.js';
import type { Channel } from '../../core/data-channel.js';

/** How often each end pings the other. */
export const HEARTBEAT_INTERVAL_MS = 1_000;

/** How long a connection may be silent (no message, ping or pong) before it is ended as dead. */
export const SILENCE_LIMIT_MS = 3_000;

/** Why a channel ended. */
export type ChannelEnd = 'closed' | 'silent' | 'garbled';

/** A Channel over a WebSocket, with the means to end it and why it ended. */
export interface WsChannel<In, Out> extends Channel<In, Out> {
  /** Ends the connection with a close frame (sent after what is queued). */
  close(code?: number, reason?: string): void;
  /** Ends the connection at once. */
  terminate(): void;
  /** Why it ended, once it has: closed by either end, silent too long, or a frame that is not a message. */
  readonly ended: ChannelEnd | undefined;
}

/** Heartbeat timings (tests shorten them). */
export interface Heartbeat {
  readonly intervalMs: number;
  readonly silenceMs: number;
}

/** A Channel over an open `socket`; `clock` times the heartbeat. */
export function wsChannel<In, Out>(
  socket: WebSocket,
  clock: Clock,
  heartbeat: Heartbeat = { intervalMs: HEARTBEAT_INTERVAL_MS, silenceMs: SILENCE_LIMIT_MS },
): WsChannel<In, Out> {
  let heardAt = clock.now();
  let ended: ChannelEnd | undefined;
  const heard = () => (heardAt = clock.now());
  socket.on('pong', heard);
  socket.on('ping', heard);
  // An error is followed by 'close', which is what the owner hears; unheard it would end the process.
  socket.on('error', () => undefined);
  let cancel = (): void => undefined;
  const beat = () => {
    if (clock.now() - heardAt > heartbeat.silenceMs) {
      ended ??= 'silent';
      socket.terminate();
      return;
    }
    if (socket.readyState === socket.OPEN) socket.ping();
    cancel = clock.setTimer(heartbeat.intervalMs, beat);
  };
  cancel = clock.setTimer(heartbeat.intervalMs, beat);
  socket.once('close', () => {
    ended ??= 'closed';
    cancel();
  });
  return {
    send(message) {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    },
    onMessage(listener) {
      socket.on('message', (data: RawData, isBinary: boolean) => {
        heard();
        let message: In;
        try {
          if (isBinary) throw new Error('binary frame');
          message = JSON.parse(rawText(data)) as In;
        } catch {
          // Not this protocol: nothing after it can be trusted either.
          ended ??= 'garbled';
          socket.close(1007, 'not a data channel message');
          return;
        }
        listener(message);
      });
    },
    onClose(listener) {
      if (socket.readyState === socket.CLOSED) queueMicrotask(listener);
      else socket.once('close', () => listener());
    },
    close(code = 1000, reason = '') {
      socket.close(code, reason);
    },
    terminate() {
      socket.terminate();
    },
    get ended() {
      return ended;
    },
  };
}

/** A text frame's bytes as a string, whichever form ws hands them in. */
function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
