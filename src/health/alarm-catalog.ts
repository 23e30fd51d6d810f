/**
 * @module health/alarm-catalog
 * The alarms deployment groups may name: those declared in the config file, plus those created over the
 * REST API while switchyard runs. What CloudWatch's list of alarms is to CodeDeploy.
 */
import type { AlarmConfig, AlarmsConfig } from '../config/alarms.js';
import { SwitchyardError } from '../core/errors.js';

/** Alarms by name. */
export class AlarmCatalog {
  readonly #alarms = new Map<string, AlarmConfig>();
  readonly #declared: ReadonlySet<string>;
  readonly #onChange: (name: string, alarm: AlarmConfig | undefined) => void;

  /** `onChange` hears every put and delete made after construction (the store keeps them). */
  constructor(
    declared: AlarmsConfig = {},
    onChange: (name: string, alarm: AlarmConfig | undefined) => void = () => undefined,
  ) {
    for (const [name, alarm] of Object.entries(declared)) this.#alarms.set(name, alarm);
    this.#declared = new Set(Object.keys(declared));
    this.#onChange = onChange;
  }

  /**
   * Puts back alarms a store kept (created over the API in an earlier run). The config file's own come
   * first: a kept alarm of a name the file declares is the file's.
   */
  restore(kept: AlarmsConfig): void {
    for (const [name, alarm] of Object.entries(kept)) if (!this.#declared.has(name)) this.#alarms.set(name, alarm);
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
    this.#onChange(name, alarm);
  }

  /** Deletes an alarm; a deployment still naming it then reads it as a poll failure. */
  delete(name: string): void {
    this.get(name);
    this.#alarms.delete(name);
    this.#onChange(name, undefined);
  }
}
