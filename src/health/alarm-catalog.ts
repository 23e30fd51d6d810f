/**
 * @module health/alarm-catalog
 * The alarms deployment groups may name: those declared in the config file, plus those created over the
 * REST API while switchyard runs. What CloudWatch's list of alarms is to CodeDeploy.
 */
import { SwitchyardError } from '../core/errors.js';
import type { AlarmConfig, AlarmsConfig } from './alarm-config.js';

/** Alarms by name. */
export class AlarmCatalog {
  readonly #alarms = new Map<string, AlarmConfig>();

  constructor(declared: AlarmsConfig = {}) {
    for (const [name, alarm] of Object.entries(declared)) this.#alarms.set(name, alarm);
  }

  /** Whether an alarm by this name exists. */
  readonly has = (name: string): boolean => this.#alarms.has(name);

  /** Every alarm, as a plain map. */
  all(): AlarmsConfig {
    return Object.fromEntries(this.#alarms);
  }

  /** One alarm by name. */
  get(name: string): AlarmConfig {
    const alarm = this.#alarms.get(name);
    if (!alarm) {
      const known = [...this.#alarms.keys()].sort().join(', ') || 'none';
      throw new SwitchyardError('ALARM_NOT_FOUND', `no alarm "${name}" (alarms: ${known})`);
    }
    return alarm;
  }

  /** Creates or replaces an alarm; a deployment already watching it sees the new rule from its next evaluation. */
  put(name: string, alarm: AlarmConfig): void {
    this.#alarms.set(name, alarm);
  }

  /** Deletes an alarm; a deployment still naming it then reads it as a poll failure. */
  delete(name: string): void {
    this.get(name);
    this.#alarms.delete(name);
  }
}
