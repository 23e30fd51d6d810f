/**
 * `GET /v1/events` on a real socket: a deployment's events arrive as server-sent events while it runs,
 * in order and numbered; a client that reconnects with Last-Event-ID gets what it missed; a filter by
 * deployment id; and stopping switchyard ends the stream.
 */
import { waitUntilDeploymentSuccessful } from '@aws-sdk/client-codedeploy';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import type { Switchyard } from '../../src/app/start.js';
import { createWebGroup, deployWeb, sdkClient, until } from '../support/codedeploy.js';
import { type ConfigInput, startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

interface Received {
  id: number;
  event: string;
  data: { deploymentId: string; message: string; status: string };
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
    const first = all.received[0]!.id;
    expect(all.received.map((r) => r.id)).toEqual(all.received.map((_, i) => first + i));
    expect(all.received.at(-1)?.data.status).toBe('Succeeded');

    // A client that saw up to the second event gets the rest; a filter for another deployment gets nothing.
    const resumed = await listen(sy, '', { 'last-event-id': String(first + 1) });
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
});
