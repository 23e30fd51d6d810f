/**
 * @module health/prometheus
 * The `prometheus` alarm kind, as Argo Rollouts and Flagger judge: an instant PromQL query whose first
 * sample is compared with a threshold. A query that returns nothing is insufficient data; a server that
 * cannot be asked is a poll failure, which the deployment group's `ignorePollAlarmFailure` decides about.
 */
import { Agent, request } from 'undici';

import type { AlarmConfig } from '../config/alarms.js';
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/describe-error.js';
import type { AlarmEvaluation } from './alarm-rules.js';

type PrometheusAlarm = Extract<AlarmConfig, { kind: 'prometheus' }>;

interface QueryResponse {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/** Asks Prometheus servers, over connections of its own. */
export class PrometheusClient {
  readonly #clock: Clock;
  readonly #agent = new Agent({ keepAliveTimeout: 4_000, connections: 4 });

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Runs the alarm's query and judges its first sample. */
  async judge(alarm: PrometheusAlarm): Promise<AlarmEvaluation> {
    let value: number | undefined;
    try {
      value = await this.#query(alarm);
    } catch (err) {
      return {
        state: 'POLL_FAILED',
        reason: `Prometheus at ${alarm.address} could not be asked: ${describeError(err)}`,
      };
    }
    if (value === undefined)
      return { state: 'INSUFFICIENT_DATA', reason: `the query returned no sample: ${alarm.query}` };
    const breached = alarm.comparison === 'above' ? value > alarm.threshold : value < alarm.threshold;
    return {
      state: breached ? 'ALARM' : 'OK',
      value,
      reason: `${alarm.query} = ${value}, ${alarm.comparison === 'above' ? 'above' : 'below'} ${alarm.threshold} breaches`,
    };
  }

  async #query(alarm: PrometheusAlarm): Promise<number | undefined> {
    const abort = new AbortController();
    const cancel = this.#clock.setTimer(alarm.timeout, () =>
      abort.abort(new Error(`no answer within ${alarm.timeout} ms`)),
    );
    try {
      // Relative to the address's own path, so a Prometheus behind a route prefix works too.
      const url = new URL('api/v1/query', alarm.address.endsWith('/') ? alarm.address : `${alarm.address}/`);
      url.searchParams.set('query', alarm.query);
      const res = await request(url, { dispatcher: this.#agent, signal: abort.signal });
      const body = (await res.body.json()) as QueryResponse;
      if (res.statusCode !== 200 || body.status !== 'success') {
        throw new Error(`HTTP ${res.statusCode}${body.error ? `: ${body.error}` : ''}`);
      }
      return firstSample(body.data);
    } finally {
      cancel();
    }
  }

  /** Closes its connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** Prometheus writes infinities its own way; a quantile past the last bucket is +Inf and must still breach. */
const INFINITIES: Readonly<Record<string, number>> = { '+Inf': Infinity, '-Inf': -Infinity, Inf: Infinity };

/** The first value of a vector or scalar result; NaN counts as no sample. */
function firstSample(data: QueryResponse['data']): number | undefined {
  const result = data?.result;
  let raw: unknown;
  if (data?.resultType === 'scalar' && Array.isArray(result)) raw = result[1];
  else if (data?.resultType === 'vector' && Array.isArray(result))
    raw = (result[0] as { value?: unknown[] } | undefined)?.value?.[1];
  if (typeof raw !== 'string') return undefined;
  const value = INFINITIES[raw] ?? Number(raw);
  return Number.isNaN(value) ? undefined : value;
}
