/**
 * Requests the control API refuses before any route sees them (found by test/fuzz/rest-api): they are
 * answered in its one error form, `{error, message}` with a stable code, like every other refusal.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { ErrorBody } from '../../src/api/rest/wire.js';
import { startProxy, twoVersions } from '../support/switchyard.js';

async function refusal(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: ErrorBody; text: string }> {
  const res = await request(url, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, body: ErrorBody.parse(JSON.parse(text)), text };
}

describe('control API refusals made before routing', () => {
  it('a path name longer than 100 characters is 414 URI_TOO_LONG, without the path echoed', async () => {
    const sy = await startProxy(twoVersions('http://127.0.0.1:1', 'http://127.0.0.1:2'));
    const name = 'n'.repeat(101);
    const { status, body, text } = await refusal(`${sy.urls['control']}/v1/services/${name}`);
    expect(status).toBe(414);
    expect(body.error).toBe('URI_TOO_LONG');
    expect(text).not.toContain(name);
  });

  it('a path that is not valid percent-encoding is 400 ARGUMENTS_INVALID', async () => {
    const sy = await startProxy(twoVersions('http://127.0.0.1:1', 'http://127.0.0.1:2'));
    const { status, body } = await refusal(`${sy.urls['control']}/v1/services/%E0%A4%A`);
    expect(status).toBe(400);
    expect(body.error).toBe('ARGUMENTS_INVALID');
  });

  it('headers over 16 KiB are 431 HEADERS_TOO_LARGE', async () => {
    const sy = await startProxy(twoVersions('http://127.0.0.1:1', 'http://127.0.0.1:2'));
    const { status, body } = await refusal(`${sy.urls['control']}/healthz`, { 'x-big': 'b'.repeat(20_000) });
    expect(status).toBe(431);
    expect(body.error).toBe('HEADERS_TOO_LARGE');
  });
});

describe('durations past 2^53 ms', () => {
  it('POST /v1/deployment-configs with an interval past 2^53 ms is 400 ARGUMENTS_INVALID, not a 500', async () => {
    const sy = await startProxy(twoVersions('http://127.0.0.1:1', 'http://127.0.0.1:2'));
    const res = await request(`${sy.urls['control']}/v1/deployment-configs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'huge',
        computePlatform: 'ECS',
        trafficRouting: { type: 'TimeBasedLinear', percent: 10, interval: 2 ** 53 },
      }),
    });
    const body = ErrorBody.parse(await res.body.json());
    expect(res.statusCode).toBe(400);
    expect(body.error).toBe('ARGUMENTS_INVALID');
    expect(body.issues?.join('\n')).toContain('trafficRouting.interval');
  });
});

describe('CreateDeploymentConfig intervals past 2^53 ms', () => {
  it('a canaryInterval whose milliseconds pass 2^53 is InvalidTrafficRoutingConfigurationException, not InternalFailure', async () => {
    const sy = await startProxy(twoVersions('http://127.0.0.1:1', 'http://127.0.0.1:2'));
    const res = await request(`${sy.urls['control']}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CodeDeploy_20141006.CreateDeploymentConfig',
      },
      body: JSON.stringify({
        deploymentConfigName: 'huge',
        computePlatform: 'ECS',
        trafficRoutingConfig: {
          type: 'TimeBasedCanary',
          timeBasedCanary: { canaryPercentage: 10, canaryInterval: Number.MAX_SAFE_INTEGER },
        },
      }),
    });
    const body = (await res.body.json()) as { __type: string };
    expect(res.statusCode).toBe(400);
    expect(body.__type).toBe('InvalidTrafficRoutingConfigurationException');
  });
});

describe('percentages that round to nothing', () => {
  it.each([5e-324, 1e-9, 99.999999999])(
    'POST /v1/deployment-configs with percent %s is 400 ARGUMENTS_INVALID, not a 500',
    async (percent) => {
      const sy = await startProxy(twoVersions('http://127.0.0.1:1', 'http://127.0.0.1:2'));
      const res = await request(`${sy.urls['control']}/v1/deployment-configs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'tiny',
          computePlatform: 'ECS',
          trafficRouting: { type: 'TimeBasedCanary', percent, interval: '90s' },
        }),
      });
      const body = ErrorBody.parse(await res.body.json());
      expect(res.statusCode).toBe(400);
      expect(body.issues?.join('\n')).toContain('trafficRouting.percent');
    },
  );
});
