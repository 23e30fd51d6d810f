/**
 * @module health/alarm-readings
 * What a watched alarm shows beside its state: whose traffic it judges, and what its value is compared
 * with, how, and in which unit (as judgeTraffic and the Prometheus client compare them). Pure, from the
 * alarm's config, the deployment's versions and the last evaluation.
 */
import type { AlarmConfig } from '../config/alarms.js';
import type { AlarmReading } from '../core/live-stats.js';
import type { AlarmWatch } from '../shifting/ports.js';
import type { AlarmEvaluation, AlarmState } from './alarm-rules.js';

/** One alarm as the monitor tracks it for a deployment. */
export interface TrackedAlarm {
  readonly name: string;
  readonly config: AlarmConfig;
  readonly state: AlarmState | undefined;
  readonly breaches: number;
  readonly last: AlarmEvaluation | undefined;
}

/** How an alarm's value is compared: the version it reads, its fixed threshold, the unit and the sign. */
type Scale = Pick<AlarmReading, 'version' | 'threshold' | 'unit' | 'comparison'>;

/** What `config` compares, for a deployment from `watch.original` to `watch.replacement`. */
function scaleOf(config: AlarmConfig, watch: Pick<AlarmWatch, 'original' | 'replacement'>): Scale {
  switch (config.kind) {
    case 'error-rate':
      return {
        // A difference is the replacement's rate over the original's: the replacement is what it judges.
        version: config.version === 'original' ? watch.original : watch.replacement,
        threshold: config.threshold,
        unit: 'ratio',
        comparison: '>',
      };
    case 'latency':
      return {
        version: config.version === 'original' ? watch.original : watch.replacement,
        // With a factor the threshold moves with the original's latency: known only once evaluated.
        threshold: config.threshold ?? null,
        unit: 'ms',
        comparison: '>',
      };
    case 'compare':
      // Its value is a statistic (an error-rate difference, or P(slower)); its threshold comes with it.
      return { version: watch.replacement, threshold: null, unit: 'value', comparison: '>' };
    case 'prometheus':
      return {
        version: watch.replacement,
        threshold: config.threshold,
        unit: 'value',
        comparison: config.comparison === 'above' ? '>' : '<',
      };
  }
}

/** The reading of one tracked alarm of a watched deployment. */
export function readingOf(watch: AlarmWatch, track: TrackedAlarm): AlarmReading {
  const scale = scaleOf(track.config, watch);
  const last = track.last;
  return {
    deploymentId: watch.deploymentId,
    service: watch.service,
    alarm: track.name,
    kind: track.config.kind,
    ...scale,
    threshold: last?.threshold ?? scale.threshold,
    state: track.state ?? null,
    value: last?.value ?? null,
    breaches: track.breaches,
    datapointsToAlarm: track.config.datapointsToAlarm,
    reason: last?.reason ?? null,
  };
}
