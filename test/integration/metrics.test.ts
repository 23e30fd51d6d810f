/**
 * GET /metrics on the control port after real traffic: request counts by class, the latency histogram,
 * the weight gauge and the default process metrics, in the Prometheus text format.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { PROMETHEUS_BUCKETS_S } from '../../src/metrics/recorder.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { closedPort, startUpstream } from '../support/upstream.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

interface Scrape {
  readonly text: string;
  readonly samples: Sample[];
  /** The value of the one sample with exactly these labels, or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of a metric whose labels include `labels`. */
  all(name: string, labels?: Record<string, string>): Sample[];
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

async function scrape(sy: Switchyard): Promise<Scrape> {
  const res = await request(`${sy.urls['control']}/metrics`);
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.body.text();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  const matches = (s: Sample, name: string, labels: Record<string, string>) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return {
    text,
    samples,
    all: (name, labels = {}) => samples.filter((s) => matches(s, name, labels)),
    value(name, labels = {}) {
      const found = samples.filter(
        (s) => matches(s, name, labels) && Object.keys(s.labels).length === Object.keys(labels).length,
      );
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match`);
      return found[0]?.value;
    },
  };
}

async function send(sy: Switchyard, path: string, version: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const res = await request(`${sy.urls['production']}${path}`, {
      headers: { 'x-switchyard-version': version },
    });
    await res.body.dump();
  }
}

async function proxyWithTraffic(): Promise<Switchyard> {
  const blue = await startUpstream('blue', (req, res) => {
    if (req.url === '/fail') {
      res.statusCode = 500;
      res.end('boom');
    } else if (req.url === '/missing') {
      res.statusCode = 404;
      res.end();
    } else if (req.url === '/slow') setTimeout(() => res.end('slow'), 300);
    else res.end('ok');
  });
  const green = `http://127.0.0.1:${await closedPort()}`;
  const sy = await startProxy(twoVersions(blue.url, green, { routing: { overrideHeader: 'x-switchyard-version' } }));
  await send(sy, '/ok', '1', 5);
  await send(sy, '/fail', '1', 2);
  await send(sy, '/missing', '1', 1);
  await send(sy, '/slow', '1', 1);
  await send(sy, '/ok', '2', 3);
  return sy;
}

const web1 = { service: 'web', version: '1' };
const web2 = { service: 'web', version: '2' };

describe('GET /metrics', () => {
  it('counts requests by service, version and class, exactly', async () => {
    const sy = await proxyWithTraffic();
    const m = await scrape(sy);
    expect(m.text).toContain('# TYPE switchyard_requests_total counter');
    expect(m.value('switchyard_requests_total', { ...web1, code: '2xx' })).toBe(6);
    expect(m.value('switchyard_requests_total', { ...web1, code: '4xx' })).toBe(1);
    expect(m.value('switchyard_requests_total', { ...web1, code: '5xx' })).toBe(2);
    expect(m.value('switchyard_requests_total', { ...web1, code: 'error' })).toBeUndefined();
    expect(m.value('switchyard_requests_total', { ...web2, code: 'error' })).toBe(3);
    expect(m.value('switchyard_requests_total', { ...web2, code: '2xx' })).toBeUndefined();
    expect(m.all('switchyard_requests_total').reduce((n, s) => n + s.value, 0)).toBe(12);

    // A second scrape with no traffic in between counts nothing twice.
    const again = await scrape(sy);
    expect(again.value('switchyard_requests_total', { ...web1, code: '2xx' })).toBe(6);
    expect(again.value('switchyard_request_duration_seconds_count', web1)).toBe(9);

    await send(sy, '/ok', '1', 4);
    const later = await scrape(sy);
    expect(later.value('switchyard_requests_total', { ...web1, code: '2xx' })).toBe(10);
    expect(later.value('switchyard_request_duration_seconds_count', web1)).toBe(13);
  });

  it('has a latency histogram whose buckets and count agree with the requests', async () => {
    const sy = await proxyWithTraffic();
    const m = await scrape(sy);
    expect(m.text).toContain('# TYPE switchyard_request_duration_seconds histogram');
    for (const [labels, total] of [
      [web1, 9],
      [web2, 3],
    ] as const) {
      const buckets = m.all('switchyard_request_duration_seconds_bucket', labels);
      expect(buckets.map((b) => b.labels['le'])).toEqual([...PROMETHEUS_BUCKETS_S.map(String), '+Inf']);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
      expect(m.value('switchyard_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(total);
      expect(m.value('switchyard_request_duration_seconds_count', labels)).toBe(total);
      expect(m.value('switchyard_request_duration_seconds_bucket', { ...labels, le: '10' })).toBe(total);
    }
    // Version 1: eight fast answers and one that took 300 ms.
    expect(m.value('switchyard_request_duration_seconds_bucket', { ...web1, le: '0.25' })).toBe(8);
    expect(m.value('switchyard_request_duration_seconds_bucket', { ...web1, le: '0.5' })).toBe(9);
    const sum1 = m.value('switchyard_request_duration_seconds_sum', web1)!;
    expect(sum1).toBeGreaterThanOrEqual(0.3);
    expect(sum1).toBeLessThan(0.3 + 8 * 0.25);
    const sum2 = m.value('switchyard_request_duration_seconds_sum', web2)!;
    expect(sum2).toBeGreaterThan(0);
    expect(sum2).toBeLessThan(3 * 0.25);
  });

  it('shows the current weights, and follows a change', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy(twoVersions(blue.url, green.url, { weights: { '1': 90, '2': 10 } }));
    const before = await scrape(sy);
    expect(before.text).toContain('# TYPE switchyard_traffic_weight_percent gauge');
    expect(before.value('switchyard_traffic_weight_percent', web1)).toBe(90);
    expect(before.value('switchyard_traffic_weight_percent', web2)).toBe(10);

    const put = await request(`${sy.urls['control']}/v1/services/web/weight`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: '2', percent: 12.34 }),
    });
    expect(put.statusCode).toBe(200);
    await put.body.dump();
    const after = await scrape(sy);
    expect(after.value('switchyard_traffic_weight_percent', web1)).toBe(87.66);
    expect(after.value('switchyard_traffic_weight_percent', web2)).toBe(12.34);

    sy.traffic.setWeights('web', { '2': 100 });
    const all = await scrape(sy);
    expect(all.value('switchyard_traffic_weight_percent', web1)).toBe(0);
    expect(all.value('switchyard_traffic_weight_percent', web2)).toBe(100);
    expect(all.all('switchyard_traffic_weight_percent')).toHaveLength(2);
  });

  it('includes the default process metrics', async () => {
    const blue = await startUpstream('blue');
    const sy = await startProxy(twoVersions(blue.url, blue.url));
    const m = await scrape(sy);
    expect(m.text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(m.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(m.value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(m.all('nodejs_heap_space_size_used_bytes').length).toBeGreaterThan(0);
  });

  it('keeps each switchyard on a registry of its own', async () => {
    const blue = await startUpstream('blue');
    const a = await startProxy(twoVersions(blue.url, blue.url));
    const b = await startProxy(twoVersions(blue.url, blue.url));
    await send(a, '/x', '1', 2);
    expect((await scrape(a)).value('switchyard_requests_total', { ...web1, code: '2xx' })).toBe(2);
    expect((await scrape(b)).value('switchyard_requests_total', { ...web1, code: '2xx' })).toBeUndefined();
  });
});
