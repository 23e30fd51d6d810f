/**
 * `GET /v1/events` on a real socket: a deployment's events arrive as server-sent events while it runs,
 * in order and numbered; a client that reconnects with Last-Event-ID gets what it missed; a filter by
 * deployment id; and stopping switchyard ends the stream. With `topics=services`, each change of a
 * service's routing arrives as its whole view, once, in the same numbering.
 */
import { waitUntilDeploymentSuccessful } from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { ServiceAnswer } from '../../src/api/rest/wire.js';
import type { Switchyard } from '../../src/app/start.js';
import { createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { type ConfigInput, startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

interface Received {
  id: number;
  event: string;
  data: { deploymentId: string; message: string; status: string } & Partial<ServiceAnswer>;
}

/** Opens the stream and collects its events as they come; `ended` resolves when the server ends it. */
async function listen(sy: Switchyard, query = '', headers: Record<string, string> = {}) {
  const res = await request(`${sy.urls['control']}/v1/events${query}`, { headers });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  const received: Received[] = [];
  let buffer = '';
  const ended = (async () => {
    for await (const chunk of res.body) {
      buffer += (chunk as Buffer).toString();
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => !l.startsWith(':') && l.includes(': '))
            .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
        );
        if (fields['data'])
          received.push({
            id: Number(fields['id']),
            event: fields['event']!,
            data: JSON.parse(fields['data']) as Received['data'],
          });
      }
    }
  })();
  return { received, ended, close: () => res.body.destroy() };
}

/** A switchyard (closed by the test) on two upstreams that ran one deployment, and the stream that watched it. */
async function watchedDeployment(): Promise<{
  sy: Switchyard;
  input: ConfigInput;
  all: Awaited<ReturnType<typeof listen>>;
  deploymentId: string;
}> {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green');
  const input = twoVersions(blue.url, green.url);
  const sy = await startProxy(input, { autoClose: false });
  const all = await listen(sy);
  const cd = sdkClient(sy);
  await createWebGroup(cd);
  const deploymentId = await deployWeb(cd);
  await waitUntilDeploymentSuccessful({ client: cd, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { deploymentId });
  await until(
    async () => all.received.at(-1)?.data.message,
    (m) => m === 'deployment succeeded',
  );
  return { sy, input, all, deploymentId };
}

describe('GET /v1/events', () => {
  it('streams a deployment as it happens, numbered; replays after Last-Event-ID; filters; ends with switchyard', async () => {
    const { sy, all, deploymentId } = await watchedDeployment();
    const messages = all.received.map((r) => r.data.message);
    expect(messages[0]).toBe('deployment created');
    expect(messages).toContain('weight changed');
    expect(all.received.every((r) => r.event === 'deployment' && r.data.deploymentId === deploymentId)).toBe(true);
    // Rising, not consecutive: service views are numbered in the same sequence.
    expect(all.received.every((r, i) => i === 0 || r.id > all.received[i - 1]!.id)).toBe(true);
    expect(all.received.at(-1)?.data.status).toBe('Succeeded');

    // A client that saw up to the second event gets the rest; a filter for another deployment gets nothing.
    const resumed = await listen(sy, '', { 'last-event-id': String(all.received[1]!.id) });
    const other = await listen(sy, '?deploymentId=d-NOTHING00');
    await until(
      async () => resumed.received.length,
      (n) => n === all.received.length - 2,
    );
    expect(resumed.received.map((r) => r.id)).toEqual(all.received.slice(2).map((r) => r.id));
    expect(other.received).toEqual([]);

    const closing = Date.now();
    await sy.close();
    await Promise.all([all.ended, resumed.ended, other.ended]);
    expect(Date.now() - closing).toBeLessThan(3_000);
  });

  it("numbers on across a restart: a client back with the last run's Last-Event-ID gets the new events", async () => {
    const { sy: before, input, all: seen } = await watchedDeployment();
    const lastId = seen.received.at(-1)!.id;
    await before.close();

    const after = await startProxy(input);
    const back = await listen(after, '', { 'last-event-id': String(lastId) });
    const cd2 = sdkClient(after);
    await createWebGroup(cd2);
    const next = await deployWeb(cd2);
    await until(
      async () => back.received.at(-1)?.data.message,
      (m) => m === 'deployment succeeded',
    );
    expect(back.received.every((r) => r.data.deploymentId === next && r.id > lastId)).toBe(true);
    expect(back.received[0]?.data.message).toBe('deployment created');
  });

  it('streams service views with topics=services: one per change, replayed after Last-Event-ID, none by default', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy(twoVersions(blue.url, green.url), { autoClose: false });
    const control = sy.urls['control']!;
    const both = await listen(sy, '?topics=deployments,services');
    const plain = await listen(sy);
    const setGreen = async (percent: number) => {
      const res = await request(`${control}/v1/services/web/weight`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ version: '2', percent }),
      });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    };
    const greenShares = () =>
      both.received.filter((r) => r.event === 'service').map((r) => r.data.weights?.production['2'] ?? 0);
    await setGreen(10);
    await until(greenShares, (w) => w.length === 1);
    // The same split again publishes a table that changes nothing anyone sees: no event.
    await setGreen(10);
    await setGreen(30);
    await until(greenShares, (w) => w.length === 2);
    expect(greenShares()).toEqual([10, 30]);
    const views = both.received.filter((r) => r.event === 'service');
    expect(views[0]!.data).toMatchObject({
      name: 'web',
      live: '1',
      weights: { production: { '1': 90, '2': 10 } },
      versions: [
        { label: '1', targets: [blue.url] },
        { label: '2', targets: [green.url] },
      ],
      health: { '1': [{ target: blue.url, state: 'unchecked' }], '2': [{ target: green.url, state: 'unchecked' }] },
    });
    expect(views[1]!.id).toBeGreaterThan(views[0]!.id);

    // Back after the first: the second is replayed; the default topic replays none of them.
    const back = await listen(sy, '?topics=services', { 'last-event-id': String(views[0]!.id) });
    const plainBack = await listen(sy, '', { 'last-event-id': String(views[0]!.id) });
    await until(
      () => back.received.map((r) => r.id),
      (ids) => ids.length === 1,
    );
    expect(back.received[0]).toMatchObject({ id: views[1]!.id, event: 'service', data: { name: 'web' } });

    const unknown = await request(`${control}/v1/events?topics=deployments,weather`);
    expect(unknown.statusCode).toBe(400);
    expect(await unknown.body.json()).toMatchObject({ error: 'ARGUMENTS_INVALID' });

    // Once switchyard has ended every stream, each has all it was ever sent.
    await sy.close();
    await Promise.all([both.ended, plain.ended, back.ended, plainBack.ended]);
    expect(plain.received).toEqual([]);
    expect(plainBack.received).toEqual([]);
    expect(back.received).toHaveLength(1);
  });
});
