/**
 * A change through the control API is acknowledged only once the store says it is durable (a shared
 * store commits after the write returns): the answer waits for `durable()`, a lost lead turns it into
 * STORE_LEADERSHIP_LOST, and reads never wait.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { SwitchyardError } from '../../src/core/errors.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

/** A memory store whose durable() the test settles by hand once armed. */
class HeldStore extends MemoryStore {
  held: { resolve: () => void; reject: (err: Error) => void } | undefined;
  armed = false;
  override durable(): Promise<void> {
    if (!this.armed) return Promise.resolve();
    return new Promise((resolve, reject) => (this.held = { resolve, reject }));
  }
}

const setWeight = (control: string) =>
  request(`${control}/v1/services/web/weight`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ version: '2', percent: 10 }),
  });

describe('control API and a store that commits later', () => {
  it('answers a change once durable() resolves, and with STORE_LEADERSHIP_LOST when it rejects', async () => {
    const [blue, green] = await Promise.all([startUpstream('blue'), startUpstream('green')]);
    const store = new HeldStore();
    const sy = await startProxy(twoVersions(blue.url, green.url), { store });
    const control = sy.urls['control']!;
    store.armed = true;

    let answered = false;
    const pending = setWeight(control).then((res) => {
      answered = true;
      return res;
    });
    await expect.poll(() => store.held).toBeDefined();
    // Reads are not held by a pending commit.
    expect((await request(`${control}/v1/services`)).statusCode).toBe(200);
    expect(answered).toBe(false);
    store.held!.resolve();
    expect((await pending).statusCode).toBe(200);

    store.held = undefined;
    const lost = setWeight(control);
    await expect.poll(() => store.held).toBeDefined();
    store.held!.reject(new SwitchyardError('STORE_LEADERSHIP_LOST', 'the lead of the store is lost'));
    const res = await lost;
    expect(res.statusCode).toBe(503);
    expect(await res.body.json()).toMatchObject({ error: 'STORE_LEADERSHIP_LOST' });
  });
});
