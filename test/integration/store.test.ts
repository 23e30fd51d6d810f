/**
 * The store on a real SQLite file under a running switchyard: what the CodeDeploy API creates and what a
 * deployment does (its record, its request, the traffic it leaves) is on disk when switchyard stops.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntilDeploymentSuccessful } from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { createWebGroup, deployWeb, sdkClient } from '../support/codedeploy.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-store-it-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('state on disk', () => {
  it('keeps applications, groups, deployments, their requests and the traffic they leave', async () => {
    const file = join(dir, 'state', 'switchyard.db');
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const sy = await startProxy({ ...twoVersions(blue.url, green.url), store: { sqlite: file } }, { autoClose: false });
    const cd = sdkClient(sy);
    await createWebGroup(cd);
    const deploymentId = await deployWeb(cd);
    await waitUntilDeploymentSuccessful({ client: cd, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { deploymentId });
    await sy.close();

    const store = new SqliteStore(file);
    try {
      expect(store.list('application').map((d) => d.key)).toEqual(['web']);
      expect(store.get('group', 'web/web-prod')).toMatchObject({ name: 'web-prod', settings: { deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' } });
      expect(store.get('deployment', deploymentId)).toMatchObject({
        id: deploymentId,
        status: 'Succeeded',
        plan: { service: 'web', currentVersion: '1', targetVersion: '2' },
        timeline: expect.arrayContaining([expect.objectContaining({ message: 'deployment succeeded' })]),
      });
      expect(store.get('request', deploymentId)).toMatchObject({ revision: { revisionType: 'AppSpecContent' } });
      expect(store.get('service', 'web')).toEqual({ live: '2', weights: { production: { '2': 10_000 }, test: { '2': 10_000 } } });
    } finally {
      store.close();
    }
  });
});
