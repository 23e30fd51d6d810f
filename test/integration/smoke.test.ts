import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

describe('proxy smoke', () => {
  it('serves the live version and names it in x-switchyard-version', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy(twoVersions(blue.url, green.url));
    const res = await request(`${sy.urls['production']}/hello?x=1`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-switchyard-version']).toBe('1');
    expect(await res.body.text()).toBe('blue');
    expect(green.hits).toBe(0);
  });
});
