/**
 * @module app/phases/alarms-and-notifications
 * The alarms deployment groups may name and the monitor that evaluates them for running deployments,
 * and the trigger notifications deployments send.
 */
import { AlarmCatalog } from '../../health/alarm-catalog.js';
import { AlarmMonitor } from '../../health/alarm-monitor.js';
import { PrometheusClient } from '../../health/prometheus.js';
import { type Notifications, startNotifications } from '../../notify/notifications.js';
import { fromStore, keptAlarms } from '../recovery.js';
import type { Ground } from './ground.js';
import type { Observation } from './observation.js';

/** What the alarms and notifications phase builds. */
export interface AlarmsAndNotifications {
  readonly alarms: AlarmCatalog;
  readonly monitor: AlarmMonitor;
  readonly notifications: Notifications;
}

/** Builds the alarm catalog (with the alarms the store kept), the alarm monitor and notifications. */
export function alarmsAndNotifications(
  { config, log, clock, store, teardown, later }: Ground,
  { stats, windows, liveStats }: Observation,
): AlarmsAndNotifications {
  const alarms = new AlarmCatalog(config.alarms, (name, alarm) =>
    alarm === undefined ? store.delete('alarm', name) : store.put('alarm', name, alarm),
  );
  fromStore('alarms', () => alarms.restore(keptAlarms(store)));
  const prometheus = new PrometheusClient(clock);
  teardown.add('prometheus client', () => prometheus.close());
  const monitor = new AlarmMonitor({
    clock,
    log: log.child({ component: 'alarms' }),
    windows,
    pullStats: () => stats.pull(),
    alarms: () => alarms.all(),
    prometheus,
    intervalMs: config.alarmEvaluationInterval,
    // State changes go into the deployment's timeline.
    onStateChange: (id, alarm, evaluation) =>
      later.engine?.annotate(
        id,
        evaluation.state === 'OK' || evaluation.state === 'INSUFFICIENT_DATA' ? 'info' : 'warn',
        'alarm state changed',
        {
          alarm,
          state: evaluation.state,
          reason: evaluation.reason,
          ...(evaluation.value !== undefined && { value: evaluation.value }),
        },
      ),
  });
  teardown.add('alarm monitor', () => monitor.close());
  // The live view shows each watched alarm's last reading beside the traffic it judges.
  liveStats.readAlarmsFrom(() => monitor.readings());
  const notifications = startNotifications({
    clock,
    log: log.child({ component: 'notify' }),
    store,
    config: config.notifications,
    // Deployment group triggers, looked up when they fire; none while there is no such group.
    triggersOf: (application, group) => {
      try {
        return later.registry?.group(application, group).settings.triggerConfigurations ?? [];
      } catch {
        return [];
      }
    },
  });
  // In-flight deliveries are aborted and stay pending in the store, for the next start.
  teardown.add('notifications', () => notifications.close());
  return { alarms, monitor, notifications };
}
