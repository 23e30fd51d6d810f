/**
 * @module api/rest/data-planes
 * The remote data planes a control plane steers: `GET /v1/data-planes` lists every one seen in this run
 * (connected, lost or away), `DELETE /v1/data-planes/:name` forgets one that is gone, so deployments no
 * longer wait for it. The connections themselves arrive at the door (api/data-plane-door).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';

import type { Logger } from '../../core/logger.js';

/** Where a data plane stands with its control plane. */
export type DataPlaneState = 'connected' | 'lost' | 'away' | 'left';

/** One data plane as the API shows it (times in epoch ms). */
export interface DataPlaneView {
  readonly name: string;
  /** Where its connection comes from (`address:port`). */
  readonly address: string;
  /** Its listeners' base URLs, as it reported them. */
  readonly listeners: Readonly<Record<string, string>>;
  /**
   * `connected`; `lost`: silent beyond the ack timeout (or the heartbeat), so its connection was closed;
   * `away`: its connection ended; `left`: it drained and said goodbye.
   */
  readonly state: DataPlaneState;
  /** Since when it is in this state. */
  readonly since: number;
  /** The revision of the table it last acknowledged (0 before it serves). */
  readonly revision: number;
  /** Requests it served (production and test) while this control plane heard from it. */
  readonly requests: number;
  /** When its current (or last) connection began. */
  readonly connectedSince: number;
  /** When its stats last arrived; absent before the first. */
  readonly lastStatsAt?: number;
  /** Its last time away, once it came back: for how long, and how many table revisions it missed. */
  readonly lastAway?: { readonly ms: number; readonly missedRevisions: number };
}

/** The data planes as the app holds them. */
export interface DataPlaneRoster {
  /** Every data plane seen in this run, by name. */
  list(): DataPlaneView[];
  /** Forgets a data plane that is not connected; throws DATA_PLANE_NOT_FOUND or DATA_PLANE_CONNECTED. */
  forget(name: string): void;
  /** Takes an authenticated data plane's connection; `address` is where it comes from. */
  accept(socket: WebSocket, address: string): void;
}

/** `GET /v1/data-planes`. */
export interface DataPlanesAnswer {
  readonly dataPlanes: readonly DataPlaneView[];
}

/** Serves `GET /v1/data-planes` and `DELETE /v1/data-planes/:name`. */
export const dataPlaneRoutes: FastifyPluginAsync<{ roster: DataPlaneRoster; log: Logger }> = async (
  app,
  { roster, log },
) => {
  app.get<{ Reply: DataPlanesAnswer }>('/v1/data-planes', async () => ({ dataPlanes: roster.list() }));

  app.delete<{ Params: { name: string } }>('/v1/data-planes/:name', async (req, reply) => {
    roster.forget(req.params.name);
    log.info({ dataPlane: req.params.name }, 'data plane forgotten');
    return reply.status(204).send();
  });
};
