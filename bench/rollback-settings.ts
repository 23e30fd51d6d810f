/**
 * @module bench/rollback-settings
 * The rollback scenario's fixed shape: the load, the failure kinds, the timings of a run and the names
 * switchyard is configured with. Kept together because the config text, the runs and the report must
 * agree on them.
 */

/** How the replacement fails: every answer a 500, or every answer 200 ms late. */
export type FailureKind = '5xx' | 'slow';
/** Both failure kinds, in the order they are measured and reported. */
export const FAILURES: readonly FailureKind[] = ['5xx', 'slow'];

/** Steady load: evenly spaced GETs, enough for the alarms' minRequests within a fraction of a second. */
export const RATE = 1_000;
/** Enough for the replacement's slow answers (about 20 at a time) to leave room for everyone else's. */
export const CONNECTIONS = 32;
/** What the load requests; other paths (Install's health check) do not count as traffic at green. */
export const LOAD_PATH = '/load';
/** How late a slow green answers. */
export const SLOW_EXTRA_MS = 200;
/** A response slower than this counts as slow: the latency alarm's threshold. */
export const SLOW_LIMIT_MS = 100;
/** Healthy traffic on the canary before the replacement fails, so the alarms have a baseline to judge. */
export const LEAD_MS = 1_000;
/**
 * Pause between runs. switchyard stamps traffic counts when it pulls them from the data plane (every
 * 250 ms): without it, the previous run's last failures are stamped after the next deployment started
 * watching and count in its alarm windows, which then fire on a healthy replacement.
 */
export const SETTLE_MS = 600;
/** Load kept on after the deployment was seen stopped, to catch anything still routed to the replacement. */
export const TAIL_MS = 500;
/** How long a plain deployment is watched failing (and how long an alarm gets to stop one). */
export const OBSERVE_MS = 5_000;
/** How often GetDeployment is asked whether the deployment has stopped. */
export const POLL_MS = 20;
/** switchyard's alarm tick in this scenario (its default). */
export const ALARM_INTERVAL_MS = 250;
/** The response header in which switchyard names the version that answered. */
export const VERSION_HEADER = 'x-switchyard-version';

/** The one service switchyard fronts. */
export const SERVICE = 'web';
/** The CodeDeploy application each deployment is created in. */
export const APPLICATION = 'web';
/** The deployment group, whose config carries the alarms and the rollback on alarm. */
export const GROUP = 'web-prod';
