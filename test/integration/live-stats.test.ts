/**
 * The live traffic view on a real socket: `GET /v1/stats/stream` sends one `stats` event per second
 * with each version's requests, errors, requests/s, error rate and latency quantiles of that second, and
 * `GET /v1/stats` answers the last one; the counts are what went through the proxy. While a deployment's
 * alarms are watched, each snapshot carries their last readings; none once it has ended.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import type { LiveStatsSnapshot } from '../../src/core/live-stats.js';
import { deployWatchedCanary, sdkClient } from '../support/codedeploy.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { until } from '../support/until.js';
import { startUpstream } from '../support/upstream.js';

/** Reads `GET /v1/stats/stream` into `snapshots` until `close`. */
async function watchStats(sy: Switchyard): Promise<{ snapshots: LiveStatsSnapshot[]; close: () => Promise<void> }> {
  const res = await request(`${sy.urls['control']}/v1/stats/stream`);
  expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  const snapshots: LiveStatsSnapshot[] = [];
  const reading = (async () => {
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += (chunk as Buffer).toString();
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (block.includes('event: stats') && data) snapshots.push(JSON.parse(data.slice(6)) as LiveStatsSnapshot);
      }
    }
  })();
  return {
    snapshots,
    close: async () => {
      res.body.destroy();
      await reading.catch(() => undefined);
    },
  };
}

describe('live stats', () => {
  it('streams each second’s requests, errors and latency per version, and answers the last one', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green', (_req, res) => {
      res.writeHead(500);
      res.end('no');
    });
    const sy = await startProxy(twoVersions(blue.url, green.url, { weights: { '1': 50, '2': 50 } }));
    const empty = await request(`${sy.urls['control']}/v1/stats`);
    expect(await empty.body.json()).toEqual({ at: null, services: [], alarms: [] });

    const { snapshots, close } = await watchStats(sy);
    // 40 requests through the proxy: the exact split sends 20 to each version.
    for (let i = 0; i < 40; i++) await (await request(`${sy.urls['production']}/`)).body.dump();
    await until(
      () => total(snapshots, '1') + total(snapshots, '2'),
      (n) => n === 40,
      5_000,
    );
    expect(total(snapshots, '1')).toBe(20);
    expect(total(snapshots, '2')).toBe(20);
    const withGreen = snapshots.find((s) => (version(s, '2')?.requests ?? 0) > 0)!;
    expect(withGreen.intervalMs).toBe(1_000);
    const g = version(withGreen, '2')!;
    expect(g.errors).toBe(g.requests);
    expect(g.errorRate).toBe(1);
    expect(g.rps).toBe(g.requests);
    expect(g.p50Ms).toBeGreaterThan(0);
    expect(g.p99Ms).toBeGreaterThanOrEqual(g.p50Ms!);
    expect(version(withGreen, '1')?.errors ?? 0).toBe(0);
    // One snapshot a second, and the last one answered on its own.
    const first = snapshots[0]!.at;
    await until(
      () => snapshots.length,
      (n) => n >= 3,
      5_000,
    );
    expect(snapshots[2]!.at - first).toBeGreaterThanOrEqual(1_900);
    const last = (await (await request(`${sy.urls['control']}/v1/stats`)).body.json()) as LiveStatsSnapshot;
    expect(last.services[0]!.service).toBe('web');
    expect(last.at).toBeGreaterThanOrEqual(snapshots[2]!.at);
    await close();
  }, 15_000);

  it("carries the watched alarms' readings during a canary, with value and threshold, and none once it ends", async () => {
    const blue = await startUpstream('blue');
    let failing = false;
    const green = await startUpstream('green', (_req, res) => {
      res.writeHead(failing ? 500 : 200);
      res.end('green');
    });
    const sy = await startProxy({
      ...twoVersions(blue.url, green.url),
      alarms: { 'green-errors': { kind: 'error-rate', threshold: 0.05, window: '5s', minRequests: 5 } },
    });
    const watching = await watchStats(sy);
    const cd = sdkClient(sy);
    const deploymentId = await deployWatchedCanary(cd, sy);
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) await (await request(`${sy.urls['production']}/`)).body.dump();
    };
    // The exact 10% split: 60 requests give the replacement 6, past the alarm's 5.
    await send(60);
    const ok = await until(
      () => watching.snapshots.flatMap((s) => s.alarms).find((a) => a.state === 'OK'),
      (a) => a !== undefined,
      5_000,
    );
    expect(ok).toEqual({
      deploymentId,
      service: 'web',
      alarm: 'green-errors',
      kind: 'error-rate',
      version: '2',
      state: 'OK',
      value: 0,
      threshold: 0.05,
      unit: 'ratio',
      comparison: '>',
      breaches: 0,
      datapointsToAlarm: 1,
      // Evaluated four times a second: the first OK may have come with the fifth request or the sixth.
      reason: expect.stringMatching(/^replacement error rate 0\.00% \(0 of [56]\), threshold 5\.00%$/),
    });
    const latest = (await (await request(`${sy.urls['control']}/v1/stats`)).body.json()) as LiveStatsSnapshot;
    expect(latest.alarms.map((a) => a.alarm)).toEqual(['green-errors']);

    failing = true;
    await send(30);
    await until(
      () => sy.engine.get(deploymentId)?.status,
      (status) => status === 'Stopped',
      5_000,
    );
    const endedAt = Date.now();
    const after = await until(
      () => watching.snapshots.at(-1),
      (s) => s !== undefined && s.at > endedAt,
      5_000,
    );
    expect(after!.alarms).toEqual([]);
    await watching.close();
  }, 20_000);
});

function version(s: LiveStatsSnapshot, label: string) {
  return s.services.find((x) => x.service === 'web')?.versions.find((v) => v.version === label);
}

function total(snapshots: readonly LiveStatsSnapshot[], label: string): number {
  return snapshots.reduce((n, s) => n + (version(s, label)?.requests ?? 0), 0);
}
