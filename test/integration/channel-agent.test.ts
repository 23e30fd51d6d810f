/**
 * The data plane's side of the control ↔ data channel, over an in-memory channel and real sockets: it
 * says hello, starts on the table it is given, applies and acknowledges each new one, sends its counts,
 * refuses another protocol version and a bad table (keeping the one in force), and drains when told.
 */
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';

import { parseConfig } from '../../src/config/load.js';
import type { Channel, ControlMessage, DataMessage } from '../../src/core/data-channel.js';
import { DATA_CHANNEL_PROTOCOL } from '../../src/core/data-channel.js';
import { createLogger } from '../../src/core/logger.js';
import type { RouteTable } from '../../src/core/route-table.js';
import { serveAsTold } from '../../src/proxy/channel-agent.js';
import { TrafficState } from '../../src/shifting/traffic.js';
import { until } from '../support/until.js';
import { startUpstream } from '../support/upstream.js';

/** The control plane's end of an in-memory channel: what it heard, and a way to speak and hang up. */
function memoryChannel() {
  const heard: DataMessage[] = [];
  let toAgent: ((m: ControlMessage) => void) | undefined;
  let closed: (() => void) | undefined;
  // Through JSON, as every real transport carries them.
  const agentEnd: Channel<ControlMessage, DataMessage> = {
    send: (m) => heard.push(JSON.parse(JSON.stringify(m)) as DataMessage),
    onMessage: (listener) => (toAgent = listener),
    onClose: (listener) => (closed = listener),
  };
  return {
    agentEnd,
    heard,
    say: (m: ControlMessage) => toAgent!(JSON.parse(JSON.stringify(m)) as ControlMessage),
    hangUp: () => closed!(),
    last: <T extends DataMessage['type']>(type: T) =>
      heard.filter((m): m is Extract<DataMessage, { type: T }> => m.type === type).at(-1),
  };
}

const LIMITS = {
  headersTimeout: 10_000,
  bodyTimeout: 10_000,
  keepAliveTimeout: 5_000,
  maxConnections: 100,
  maxRequestsInFlight: 100,
  maxHeaderSize: 16_384,
};

/** The route tables a TrafficState publishes for `web` with versions 1 and 2. */
function traffic(blue: string, green: string): TrafficState {
  const config = parseConfig(
    JSON.stringify({
      listeners: { production: { host: '127.0.0.1', port: 0 } },
      services: [{ name: 'web', versions: { '1': { targets: [blue] }, '2': { targets: [green] } }, live: '1' }],
    }),
    'agent.json',
    {},
  );
  return new TrafficState(config);
}

async function started(table: RouteTable) {
  const ch = memoryChannel();
  const done = serveAsTold(ch.agentEnd, createLogger({ level: 'silent' }), { name: 'agent', rss: () => 42 });
  onTestFinished(async () => {
    ch.hangUp();
    await done;
  });
  expect(ch.heard).toEqual([{ type: 'hello', protocol: DATA_CHANNEL_PROTOCOL, name: 'agent', revision: 0 }]);
  ch.say({
    type: 'start',
    protocol: DATA_CHANNEL_PROTOCOL,
    table,
    listeners: { production: { host: '127.0.0.1', port: 0 }, limits: LIMITS },
    statsIntervalMs: 50,
  });
  const listening = await until(
    async () => ch.last('listening'),
    (m) => m !== undefined,
    5_000,
  );
  return { ch, done, url: `http://127.0.0.1:${listening!.addresses.production!.port}` };
}

async function versionOf(url: string): Promise<string> {
  const res = await request(`${url}/`);
  await res.body.dump();
  return String(res.headers['x-switchyard-version']);
}

describe('a data plane steered over the channel', () => {
  it('starts on its table, applies and acknowledges each new one, sends counts, and drains when told', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const state = traffic(blue.url, green.url);
    const { ch, done, url } = await started(state.table);
    expect(ch.last('listening')!.revision).toBe(state.table.revision);
    expect(await versionOf(url)).toBe('1');
    state.setWeights('web', { '2': 100 });
    ch.say({ type: 'table', table: state.table });
    expect(ch.last('applied')).toEqual({ type: 'applied', revision: state.table.revision });
    expect(await versionOf(url)).toBe('2');
    const stats = await until(
      async () => ch.heard.filter((m) => m.type === 'stats'),
      (all) => all.reduce((n, m) => n + (m.type === 'stats' ? m.delta.entries.length : 0), 0) >= 2,
      5_000,
    );
    expect(stats[0]).toMatchObject({ rssBytes: 42 });
    ch.say({ type: 'drain', drainMs: 1_000 });
    await done;
    expect(ch.heard.at(-1)).toEqual({ type: 'drained' });
    await expect(request(`${url}/`)).rejects.toThrow();
  });

  it('refuses a table it cannot route by and keeps the one in force', async () => {
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const state = traffic(blue.url, green.url);
    const { ch, url } = await started(state.table);
    const broken = {
      ...state.table,
      revision: state.table.revision + 1,
      services: [{ ...state.table.services[0]!, live: 'nine' }],
    };
    ch.say({ type: 'table', table: broken });
    expect(ch.last('failed')).toMatchObject({ type: 'failed', code: 'WEIGHTS_INVALID' });
    expect(ch.last('applied')).toBeUndefined();
    expect(await versionOf(url)).toBe('1');
  });

  it('refuses a control plane speaking another protocol version, and ends', async () => {
    const ch = memoryChannel();
    const done = serveAsTold(ch.agentEnd, createLogger({ level: 'silent' }), { name: 'agent' });
    ch.say({
      type: 'start',
      protocol: DATA_CHANNEL_PROTOCOL + 1,
      table: { revision: 1, versionHeader: false, services: [] },
      listeners: { production: { host: '127.0.0.1', port: 0 }, limits: LIMITS },
      statsIntervalMs: 50,
    });
    await done;
    expect(ch.last('failed')).toEqual({
      type: 'failed',
      code: 'PROTOCOL_MISMATCH',
      message: `the control plane speaks data channel protocol ${DATA_CHANNEL_PROTOCOL + 1}, this data plane ${DATA_CHANNEL_PROTOCOL}`,
    });
    expect(ch.last('listening')).toBeUndefined();
  });
});
