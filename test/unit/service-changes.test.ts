/**
 * The services topic of the event stream without a socket: a route table sends the view of each service
 * that changed, once, and nothing for one that did not; a health change is sent by refresh; service
 * views and deployment events share one numbering, and a replay after Last-Event-ID has both, in order,
 * each topic keeping its own last thousand.
 */
import { describe, expect, it } from 'vitest';

import { EventStream, type Numbered } from '../../src/api/event-stream.js';
import type { ServiceAnswer } from '../../src/api/rest/wire.js';
import { ServiceChanges } from '../../src/api/service-changes.js';
import { ManualClock } from '../../src/core/clock.js';
import type { DeploymentEvent, ServiceView } from '../../src/shifting/ports.js';

/** A service view with production weights `weights`. */
function view(name: string, weights: Record<string, number>): ServiceView {
  return {
    name,
    match: { pathPrefix: '/' },
    live: '1',
    versions: [{ label: '1', targets: ['http://blue'] }],
    weights: { production: weights, test: { '1': 100 } },
  };
}

const EVENT: DeploymentEvent = {
  deploymentId: 'd-AAAAAAAA1',
  time: 0,
  wallTime: 0,
  level: 'info',
  message: 'deployment created',
  detail: {},
  status: 'Created',
};

describe('service changes', () => {
  it('sends each changed service once per table, and a health change on refresh', () => {
    const views = new Map([
      ['web', view('web', { '1': 100 })],
      ['api', view('api', { '1': 100 })],
    ]);
    let health = 'unchecked';
    const sent: ServiceAnswer[] = [];
    const changes = new ServiceChanges({
      traffic: { service: (name) => views.get(name)! },
      health: { viewOf: () => ({ '1': [{ target: 'http://blue', state: health as 'healthy', since: 0 }] }) },
      emit: (answer) => sent.push(answer),
    });
    const table = { services: [{ name: 'web' }, { name: 'api' }] };
    changes.publish(table);
    expect(sent.map((s) => s.name)).toEqual(['web', 'api']);
    changes.publish(table);
    expect(sent).toHaveLength(2);
    views.set('api', view('api', { '1': 90, '2': 10 }));
    changes.publish(table);
    expect(sent.map((s) => s.name)).toEqual(['web', 'api', 'api']);
    expect(sent[2]).toMatchObject({
      weights: { production: { '1': 90, '2': 10 } },
      health: { '1': [{ state: 'unchecked' }] },
    });
    health = 'healthy';
    changes.refresh('web');
    changes.refresh('web');
    expect(sent.map((s) => s.name)).toEqual(['web', 'api', 'api', 'web']);
    expect(sent[3]!.health).toEqual({ '1': [{ target: 'http://blue', state: 'healthy', since: 0 }] });
  });

  it('numbers both topics in one sequence and replays both after an id, each topic keeping its last thousand', () => {
    const stream = new EventStream(new ManualClock(1_000));
    stream.publish(EVENT);
    stream.publishService(view('web', { '1': 100 }));
    stream.publish({ ...EVENT, message: 'deployment started' });
    const live: Numbered[] = [];
    stream.subscribe((n) => live.push(n));
    stream.publishService(view('web', { '1': 50, '2': 50 }));
    expect(live.map((n) => [n.id, n.topic])).toEqual([[1_000_004, 'services']]);
    const replayed: Numbered[] = [];
    stream.subscribe((n) => replayed.push(n), 1_000_001);
    expect(replayed.map((n) => [n.id, n.topic])).toEqual([
      [1_000_002, 'services'],
      [1_000_003, 'deployments'],
      [1_000_004, 'services'],
    ]);
    // A thousand service views push out only older service views.
    for (let i = 0; i < 1_000; i++) stream.publishService(view('web', { '1': 100 }));
    const after: Numbered[] = [];
    stream.subscribe((n) => after.push(n), 0);
    expect(after.filter((n) => n.topic === 'deployments')).toHaveLength(2);
    expect(after.filter((n) => n.topic === 'services')).toHaveLength(1_000);
    expect(after[0]!.id).toBe(1_000_001);
  });
});
