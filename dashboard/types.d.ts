/**
 * The control API's answers as the dashboard reads them (the shapes src/api/rest/wire.ts and the
 * deployments routes send), for JSDoc types only: nothing imports this at run time.
 */

export type DeploymentStatus =
  'Created' | 'Queued' | 'InProgress' | 'Baking' | 'Succeeded' | 'Failed' | 'Stopped' | 'Ready';

export interface TargetHealth {
  target: string;
  state: 'healthy' | 'unhealthy' | 'ejected' | 'unchecked';
  reason?: string;
  since: number;
}

export interface ServiceAnswer {
  name: string;
  match: { host?: string; pathPrefix: string };
  live: string;
  versions: { label: string; targets: string[] }[];
  weights: { production: Record<string, number>; test?: Record<string, number> };
  faults?: Record<string, unknown>;
  health?: Record<string, TargetHealth[]>;
}

export interface DeploymentSummary {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  service: string;
  currentVersion: string;
  targetVersion: string;
  status: DeploymentStatus;
  creator: 'user' | 'codeDeployRollback';
  deploymentConfigName: string;
  timeScale: number;
  createTime: number;
  startTime?: number;
  completeTime?: number;
  wallTimes: { create: number; start?: number; complete?: number };
  /** Percent (0–100) of production traffic on the target version. */
  trafficWeight: number;
  errorInformation?: { code: string; message: string };
  rollbackInfo?: { rollbackDeploymentId?: string; rollbackTriggeringDeploymentId?: string; rollbackMessage?: string };
}

export interface Diagnostics {
  errorCode: string;
  scriptName: string;
  message: string;
  logTail: string;
}

export interface LifecycleEvent {
  name: string;
  status: string;
  startTime?: number;
  endTime?: number;
  diagnostics?: Diagnostics;
}

export type DeploymentDetail = DeploymentSummary & {
  lifecycleEvents: LifecycleEvent[];
  alarms: { names: string[]; ignorePollAlarmFailure: boolean } | null;
  waitingFor?: 'READY_WAIT' | 'TERMINATION_WAIT' | 'CONTINUE_STEP';
  promoted?: boolean;
  description?: string;
};

export interface TimelineEntry {
  time: number;
  wallTime: number;
  level: 'info' | 'warn';
  message: string;
  detail: Record<string, unknown>;
  status?: DeploymentStatus;
}

export type StreamedEvent = TimelineEntry & { deploymentId: string };

export interface PlannedStep {
  atMs: number | null;
  percent: number;
  holdMs: number | null;
}

export interface ScheduleAnswer {
  deploymentId: string;
  timeScale: number;
  allowTrafficStartedAt: number | null;
  steps: PlannedStep[];
  totalMs: number | null;
}

export interface LiveVersionStats {
  version: string;
  requests: number;
  errors: number;
  rps: number;
  errorRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface AlarmReading {
  deploymentId: string;
  service: string;
  alarm: string;
  kind: 'error-rate' | 'latency' | 'compare' | 'prometheus';
  version: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'POLL_FAILED' | null;
  value: number | null;
  threshold: number | null;
  unit: 'ratio' | 'ms' | 'value';
  comparison: string;
  breaches: number;
  datapointsToAlarm: number;
  /** Why, from the last evaluation; null before the first. */
  reason: string | null;
}

export interface StatsSnapshot {
  at: number;
  intervalMs: number;
  services: { service: string; versions: LiveVersionStats[] }[];
  alarms?: AlarmReading[];
}

export interface LabReportEntry {
  name: string;
  title: string;
  experiment: string;
  startedAt: number | string;
  finishedAt?: number | string | null;
  complete: boolean;
  modes: string[];
  runs: number;
  uploaded: boolean;
}

export interface LabReportAnswer {
  name: string;
  title: string;
  markup: string;
  report: unknown;
  view: unknown;
}

/** An alarm's config as GET /v1/alarms has it (only what the charts need). */
export interface AlarmConfig {
  kind: string;
  quantile?: number;
}
