/**
 * Scheduled faults through the real proxy on real sockets, during a canary at time scale 600: nothing is
 * injected (and nothing is in the table) before the deployment's traffic shift and its `after`, then the
 * exact seeded aborts; a ramp raises the share step by step with one continuous draw stream; a schedule
 * set, shown and cleared over the control API.
 */
import { Agent, request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { Mulberry32 } from '../../src/core/random.js';
import type { RouteTable } from '../../src/core/route-table.js';
import { createWebGroup, deployWeb, sdkClient } from '../support/codedeploy.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { answerName, startUpstream } from '../support/upstream.js';

const PIN = 'x-pin';
const SCALE = 600;

/**
 * Blue and green behind `web` (green reached directly with the pin header), at time scale 600; `pinned`
 * counts the pinned requests green received (its readiness probe is not one).
 */
async function setup() {
  const blue = await startUpstream('blue');
  const reached = { pinned: 0 };
  const green = await startUpstream('green', (req, res, u) => {
    if (req.headers[PIN] !== undefined) reached.pinned++;
    answerName(req, res, u);
  });
  const sy = await startProxy({
    ...twoVersions(blue.url, green.url, { routing: { overrideHeader: PIN } }),
    timeScale: SCALE,
  });
  return { sy, reached };
}

/** A canary (10% for 15 minutes: 1.5 s here) of version 2 started through CodeDeploy's API. */
async function deployCanary(sy: Switchyard): Promise<string> {
  const cd = sdkClient(sy);
  await createWebGroup(cd, { deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent15Minutes' });
  return deployWeb(cd);
}

/** The abort percent version 2 has in `table`; undefined when it has no fault there. */
const abortIn = (table: RouteTable): number | undefined =>
  table.services[0]!.versions.find((v) => v.label === '2')!.fault?.abort?.percent;

/** The first seed from 1 whose first abort draw aborts at `percent`: a request that draws it is surely aborted. */
function seedAbortingFirst(percent: number): number {
  for (let seed = 1; ; seed++) if (new Mulberry32(seed).next() * 100 < percent) return seed;
}

function control(sy: Switchyard, method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown) {
  return request(`${sy.urls['control']}${path}`, {
    method,
    ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
}

/** One request pinned to version 2: the abort percent in force when it was sent and when it was answered. */
interface Exchange {
  readonly sentAt: number | undefined;
  readonly gotAt: number | undefined;
  readonly status: number;
}

/**
 * Sends requests pinned to version 2 one after another until `enough` says so (at most 100,000, or 20 s),
 * reading `level()` (the abort percent of the last table published) before each and after its answer. The
 * count bound is far above what the ramp needs: on a quiet machine one connection does 6,000 a second.
 */
async function pinnedLoad(
  sy: Switchyard,
  level: () => number | undefined,
  enough: (seen: readonly Exchange[]) => boolean,
): Promise<Exchange[]> {
  const agent = new Agent({ connections: 1 });
  onTestFinished(() => agent.close());
  const seen: Exchange[] = [];
  const deadline = Date.now() + 20_000;
  while (seen.length < 100_000 && Date.now() < deadline && !enough(seen)) {
    const sentAt = level();
    const res = await request(`${sy.urls['production']}/`, { dispatcher: agent, headers: { [PIN]: '2' } });
    await res.body.dump();
    seen.push({ sentAt, gotAt: level(), status: res.statusCode });
  }
  return seen;
}

/**
 * The requests the fault drew for, in order. Those sent with it in force did; of one sent before and
 * answered after, only an abort tells: the seed is chosen so that the fault's first draw aborts.
 */
const drawnFor = (seen: readonly Exchange[]) =>
  seen.filter((e) => e.sentAt !== undefined || (e.gotAt !== undefined && e.status === 503));

describe('scheduled faults', () => {
  it('injects nothing before the shift’s scaled `after`, then exactly the seeded aborts', async () => {
    const { sy, reached } = await setup();
    const seed = seedAbortingFirst(30);
    const put = await control(sy, 'PUT', '/v1/services/web/faults/2', {
      abort: { percent: 30 },
      seed,
      schedule: { after: '5m' },
    });
    expect(put.statusCode).toBe(200);
    expect(((await put.body.json()) as { faults?: unknown }).faults).toEqual({
      '2': {
        abort: { percent: 30, status: 503 },
        seed,
        schedule: { afterMs: 300_000 },
        active: { abort: 0, delay: 0 },
      },
    });
    expect(abortIn(sy.traffic.table)).toBeUndefined();

    let level: number | undefined;
    let inForceAt: number | undefined;
    sy.traffic.attach({
      publish: (table) => {
        level = abortIn(table);
        if (level !== undefined) inForceAt ??= Date.now();
      },
    });
    const id = await deployCanary(sy);
    const seen = await pinnedLoad(
      sy,
      () => level,
      (s) => s.filter((e) => e.sentAt !== undefined).length >= 300,
    );

    // When the shift began, in real time: the deployment's clock runs 600 times faster from its creation.
    const record = sy.engine.get(id)!;
    const allow = record.lifecycleEvents.find((e) => e.name === 'AllowTraffic')!;
    const shiftAt = record.wallTimes.create + (allow.startTime! - record.createTime) / SCALE;
    expect(inForceAt).toBeDefined();
    // 5 minutes at time scale 600: 500 ms (a millisecond of rounding either way between the clocks).
    expect(inForceAt! - shiftAt).toBeGreaterThanOrEqual(499);
    expect(inForceAt! - shiftAt).toBeLessThan(2_500);

    // Nothing answered before the fault was in force was aborted, and there were such requests.
    const before = seen.filter((e) => e.gotAt === undefined);
    expect(before.length).toBeGreaterThan(10);
    expect(before.every((e) => e.status === 200)).toBe(true);
    // From then on, request by request, the aborts one seeded stream gives at 30%.
    const drawn = drawnFor(seen);
    const stream = new Mulberry32(seed);
    expect(drawn.map((e) => e.status)).toEqual(drawn.map(() => (stream.next() * 100 < 30 ? 503 : 200)));
    const aborted = drawn.filter((e) => e.status === 503).length;
    expect(aborted).toBeGreaterThan(50);
    // Aborted requests never reached the target.
    expect(reached.pinned).toBe(seen.length - aborted);

    const shown = (await (await control(sy, 'GET', '/v1/services/web')).body.json()) as {
      faults: Record<string, { active: unknown }>;
    };
    expect(shown.faults['2']!.active).toEqual({ abort: 30, delay: 0 });
  });

  it('raises the share of aborts step by step over a ramp, from one continuous draw stream', async () => {
    const { sy } = await setup();
    const seed = seedAbortingFirst(10);
    // A ramp of 10 minutes is 1 s here; 100 ms of real time is the longer step: 10 points at a time.
    sy.traffic.setFault('web', '2', {
      abort: { percent: 100, status: 503 },
      seed,
      schedule: { afterMs: 0, rampMs: 600_000, fromPercent: 0 },
    });
    const levels: number[] = [];
    let level: number | undefined;
    sy.traffic.attach({
      publish: (table) => {
        level = abortIn(table);
        if (level !== undefined && level !== levels.at(-1)) levels.push(level);
      },
    });
    expect(level).toBeUndefined();
    await deployCanary(sy);
    const seen = await pinnedLoad(
      sy,
      () => level,
      (s) => s.filter((e) => e.sentAt === 100).length >= 50,
    );

    // Whole steps up, to exactly 100 (a step may be skipped when a timer runs late on a busy machine).
    expect(levels.length).toBeGreaterThanOrEqual(4);
    expect(levels.at(-1)).toBe(100);
    for (const [i, l] of levels.entries()) {
      expect(l % 10).toBe(0);
      if (i > 0) expect(l).toBeGreaterThan(levels[i - 1]!);
    }
    expect(seen.filter((e) => e.gotAt === undefined).every((e) => e.status === 200)).toBe(true);
    // Each request drawn for is aborted as the next draw of one stream says, at the percent in force.
    const stream = new Mulberry32(seed);
    for (const e of drawnFor(seen)) {
      const u = stream.next() * 100;
      const could = [e.sentAt ?? 0, e.gotAt!].map((p) => (u < p ? 503 : 200));
      expect(could).toContain(e.status);
    }
    // The measured share rises: low early in the ramp, all of them at its end.
    const share = (within: (p: number) => boolean) => {
      const at = seen.filter((e) => e.sentAt !== undefined && e.sentAt === e.gotAt && within(e.sentAt));
      return at.filter((e) => e.status === 503).length / at.length;
    };
    expect(share((p) => p <= 30)).toBeLessThan(0.5);
    expect(share((p) => p === 100)).toBe(1);
  });

  it('sets, shows and clears a schedule over the control API; before any deployment nothing is in the table', async () => {
    const { sy, reached } = await setup();
    const put = await control(sy, 'PUT', '/v1/services/web/faults/2', {
      abort: { percent: 100 },
      delay: { percent: 50, fixed: '1s' },
      seed: 5,
      schedule: { after: '1m', ramp: '2m', from: 5 },
    });
    expect(put.statusCode).toBe(200);
    const set = {
      '2': {
        abort: { percent: 100, status: 503 },
        delay: { percent: 50, fixedMs: 1_000 },
        seed: 5,
        schedule: { afterMs: 60_000, rampMs: 120_000, fromPercent: 5 },
        active: { abort: 0, delay: 0 },
      },
    };
    expect(((await put.body.json()) as { faults?: unknown }).faults).toEqual(set);
    const shown = (await (await control(sy, 'GET', '/v1/services/web')).body.json()) as { faults?: unknown };
    expect(shown.faults).toEqual(set);
    // Not in the table: the data plane has no fault to check for version 2's requests.
    expect(abortIn(sy.traffic.table)).toBeUndefined();
    const statuses = await pinnedLoad(
      sy,
      () => undefined,
      (s) => s.length >= 20,
    );
    expect(statuses.every((e) => e.status === 200)).toBe(true);
    expect(reached.pinned).toBe(20);

    const bad = await control(sy, 'PUT', '/v1/services/web/faults/2', {
      abort: { percent: 10 },
      schedule: { from: 5 },
    });
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { issues: string[] }).issues.join(' ')).toMatch(/schedule\.from/);

    const del = await control(sy, 'DELETE', '/v1/services/web/faults/2');
    expect(del.statusCode).toBe(200);
    expect(((await del.body.json()) as { faults?: unknown }).faults).toBeUndefined();
    expect(abortIn(sy.traffic.table)).toBeUndefined();
  });
});
