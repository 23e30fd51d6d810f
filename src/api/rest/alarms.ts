/**
 * @module api/rest/alarms
 * CloudWatch's part: `/v1/alarms` lists, reads, sets and deletes the alarms a deployment group's
 * alarmConfiguration may name, while switchyard runs.
 */
import type { FastifyPluginAsync } from 'fastify';

import { AlarmConfig, type AlarmsConfig } from '../../config/alarms.js';
import type { Logger } from '../../core/logger.js';
import { parseBody } from '../errors.js';
import type { AlarmsAnswer } from './wire.js';

/** The alarms deployment groups may name, changeable while running. */
export interface AlarmRegistry {
  all(): AlarmsConfig;
  /** Throws ALARM_NOT_FOUND. */
  get(name: string): AlarmConfig;
  put(name: string, alarm: AlarmConfig): void;
  delete(name: string): void;
}

/** What {@link alarmRoutes} serves from. */
export interface AlarmRoutesOptions {
  readonly alarms: AlarmRegistry;
  readonly log: Logger;
}

type ByName = { Params: { name: string } };

/** Serves `GET /v1/alarms` and `GET`, `PUT` and `DELETE /v1/alarms/:name`. */
export const alarmRoutes: FastifyPluginAsync<AlarmRoutesOptions> = async (app, { alarms, log }) => {
  app.get<{ Reply: AlarmsAnswer }>('/v1/alarms', async () => ({ alarms: alarms.all() }));

  app.get<ByName & { Reply: AlarmConfig }>('/v1/alarms/:name', async (req) => alarms.get(req.params.name));

  app.put<ByName & { Reply: AlarmConfig }>('/v1/alarms/:name', async (req) => {
    const alarm = parseBody(AlarmConfig, req.body);
    alarms.put(req.params.name, alarm);
    log.info({ alarm: req.params.name, rule: alarm }, 'alarm set');
    return alarm;
  });

  app.delete<ByName>('/v1/alarms/:name', async (req, reply) => {
    alarms.delete(req.params.name);
    log.info({ alarm: req.params.name }, 'alarm deleted');
    return reply.status(204).send();
  });
};
