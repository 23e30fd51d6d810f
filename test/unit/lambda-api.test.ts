/**
 * The Lambda API's pure parts: how a FunctionName and Qualifier are read, the alias as a split and
 * UpdateAlias's rules, paging, and the Event queue's waiting and retries on a manual clock.
 */
import { describe, expect, it } from 'vitest';

import { aliasChange, aliasOf, AliasPicker } from '../../src/api/lambda/alias.js';
import { FunctionCatalog, parseFunctionName, qualifierOf } from '../../src/api/lambda/catalog.js';
import { LambdaRefusal } from '../../src/api/lambda/errors.js';
import { EventQueue } from '../../src/api/lambda/event-queue.js';
import { page } from '../../src/api/lambda/shapes.js';
import { ManualClock } from '../../src/core/clock.js';
import { SwitchyardError } from '../../src/core/errors.js';
import type {
  FunctionInvocationRequest,
  FunctionInvocationResult,
  FunctionInvoker,
} from '../../src/core/function-invoker.js';
import { createLogger } from '../../src/core/logger.js';
import type { ServiceView } from '../../src/shifting/ports.js';
import { configFrom } from '../support/switchyard.js';

const catalog = new FunctionCatalog(
  configFrom({
    services: [
      {
        name: 'orders',
        versions: {
          '1': { lambda: { handler: '/code/index.handler' } },
          '2': { lambda: { handler: '/code/index.handler' } },
          '3': { lambda: { handler: '/code/index.handler' } },
        },
        live: '1',
      },
    ],
  }).services,
);
const orders = catalog.get('orders');

function view(live: string, production: Record<string, number>): ServiceView {
  return {
    name: 'orders',
    match: { pathPrefix: '/' },
    live,
    versions: [],
    weights: { production, test: { [live]: 100 } },
  };
}

const exceptionOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof LambdaRefusal ? err.exception : String(err);
  }
  return 'nothing thrown';
};

describe('function names and qualifiers', () => {
  it('reads a name, name:qualifier, a full ARN and a partial ARN', () => {
    expect(parseFunctionName('orders')).toEqual({ name: 'orders', qualifier: undefined });
    expect(parseFunctionName('orders:live')).toEqual({ name: 'orders', qualifier: 'live' });
    expect(parseFunctionName('arn:aws:lambda:eu-west-1:123456789012:function:orders:$LATEST')).toEqual({
      name: 'orders',
      qualifier: '$LATEST',
    });
    expect(parseFunctionName('123456789012:function:orders')).toEqual({ name: 'orders', qualifier: undefined });
    expect(parseFunctionName('eu-west-1:123456789012:function:orders:2')).toEqual({ name: 'orders', qualifier: '2' });
  });

  it('refuses what is no function name', () => {
    for (const bad of ['', 'a b', 'arn:aws:s3:::x', 'function:orders', 'x'.repeat(257), 'orders:a b', '1:function:x']) {
      expect(
        exceptionOf(() => parseFunctionName(bad)),
        bad,
      ).toBe('InvalidParameterValueException');
    }
  });

  it('takes the qualifier from the name or the parameter, refusing two that differ', () => {
    expect(qualifierOf('1', undefined)).toBe('1');
    expect(qualifierOf(undefined, 'live')).toBe('live');
    expect(qualifierOf('1', '1')).toBe('1');
    expect(exceptionOf(() => qualifierOf('1', '2'))).toBe('InvalidParameterValueException');
    expect(exceptionOf(() => qualifierOf(undefined, 'a b'))).toBe('InvalidParameterValueException');
  });

  it('resolves $LATEST to the last version, the alias, a version, and refuses others with the ARN asked for', () => {
    expect(catalog.target(orders, undefined)).toMatchObject({ kind: 'latest', version: { label: '3' } });
    expect(catalog.target(orders, '$LATEST')).toMatchObject({ kind: 'latest', version: { label: '3' } });
    expect(catalog.target(orders, 'live')).toEqual({ kind: 'alias' });
    expect(catalog.target(orders, '2')).toMatchObject({ kind: 'version', version: { label: '2' } });
    expect(() => catalog.target(orders, '4')).toThrow(
      'Function not found: arn:aws:lambda:local:000000000000:function:orders:4',
    );
    expect(() => catalog.get('web')).toThrow('Function not found: arn:aws:lambda:local:000000000000:function:web');
  });
});

describe('the alias as the production split', () => {
  it('shows the live version and the others’ weights as fractions, with a revision that follows the split', () => {
    const plain = aliasOf(orders, view('1', { '1': 100 }));
    expect(plain).toMatchObject({ Name: 'live', FunctionVersion: '1' });
    expect(plain.RoutingConfig).toBeUndefined();
    const canary = aliasOf(orders, view('1', { '1': 90, '2': 10 }));
    expect(canary.RoutingConfig).toEqual({ AdditionalVersionWeights: { '2': 0.1 } });
    expect(canary.RevisionId).not.toBe(plain.RevisionId);
    expect(aliasOf(orders, view('1', { '2': 10, '1': 90 })).RevisionId).toBe(canary.RevisionId);
  });

  it('picks exactly the share, and starts the new share when the weights change', () => {
    const picker = new AliasPicker();
    const picks = (v: ServiceView, n: number) => {
      const seen: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const label = picker.pick(orders, v);
        seen[label] = (seen[label] ?? 0) + 1;
      }
      return seen;
    };
    expect(picks(view('1', { '1': 90, '2': 10 }), 10)).toEqual({ '1': 9, '2': 1 });
    expect(picks(view('1', { '1': 99.99, '2': 0.01 }), 10_000)).toEqual({ '1': 9_999, '2': 1 });
    expect(picks(view('1', { '1': 50, '2': 50 }), 4)).toEqual({ '1': 2, '2': 2 });
  });

  it('UpdateAlias: the primary version, one additional version in [0, 1] that is not the primary, the revision', () => {
    const current = aliasOf(orders, view('1', { '1': 100 }));
    expect(aliasChange(orders, { RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }, current)).toEqual({
      live: '1',
      production: { '1': 9_000, '2': 1_000 },
    });
    expect(aliasChange(orders, { FunctionVersion: '2', RevisionId: current.RevisionId }, current)).toEqual({
      live: '2',
      production: { '2': 10_000 },
    });
    expect(aliasChange(orders, { RoutingConfig: { AdditionalVersionWeights: { '2': 1 } } }, current)).toEqual({
      live: '1',
      production: { '1': 0, '2': 10_000 },
    });
    // Kept to a basis point, the split's own precision.
    expect(
      aliasChange(orders, { RoutingConfig: { AdditionalVersionWeights: { '3': 0.123456 } } }, current).production,
    ).toEqual({ '1': 8_765, '3': 1_235 });
    const refusedWith = (body: unknown) => exceptionOf(() => aliasChange(orders, body, current));
    expect(refusedWith({ RoutingConfig: { AdditionalVersionWeights: { '2': 0.1, '3': 0.1 } } })).toBe(
      'InvalidParameterValueException',
    );
    expect(refusedWith({ RoutingConfig: { AdditionalVersionWeights: { '2': -0.1 } } })).toBe(
      'InvalidParameterValueException',
    );
    expect(refusedWith({ RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } })).toBe(
      'InvalidParameterValueException',
    );
    expect(refusedWith({ RoutingConfig: { AdditionalVersionWeights: { $LATEST: 0.5 } } })).toBe(
      'InvalidParameterValueException',
    );
    expect(refusedWith({ FunctionVersion: '$LATEST' })).toBe('InvalidParameterValueException');
    expect(refusedWith({ FunctionVersion: '9' })).toBe('ResourceNotFoundException');
    expect(refusedWith({ RoutingConfig: { AdditionalVersionWeights: { '9': 0.5 } } })).toBe(
      'ResourceNotFoundException',
    );
    expect(refusedWith({ FunctionVersion: '2', RevisionId: 'stale' })).toBe('PreconditionFailedException');
    expect(() => aliasChange(orders, { FunctionVersion: 2 }, current)).toThrow(SwitchyardError);
  });
});

describe('paging', () => {
  it('pages with an opaque marker and refuses a bad one or a MaxItems out of range', () => {
    const items = ['a', 'b', 'c', 'd', 'e'];
    const first = page(items, undefined, '2');
    expect(first.items).toEqual(['a', 'b']);
    const second = page(items, first.nextMarker, '2');
    expect(second.items).toEqual(['c', 'd']);
    expect(page(items, second.nextMarker, '2')).toEqual({ items: ['e'], nextMarker: undefined });
    expect(page(items, undefined, undefined)).toEqual({ items, nextMarker: undefined });
    for (const [marker, max] of [
      ['x', undefined],
      ['LTE', undefined],
      [undefined, '0'],
      [undefined, '10001'],
      [undefined, '1.5'],
    ] as const) {
      expect(exceptionOf(() => page(items, marker, max))).toBe('InvalidParameterValueException');
    }
  });
});

/** An invoker whose invocations end when the test says, or throttle beyond `slots`. */
class HeldInvoker implements FunctionInvoker {
  readonly running: { request: FunctionInvocationRequest; end: (r: FunctionInvocationResult) => void }[] = [];
  calls = 0;
  constructor(private readonly slots: number) {}
  async invoke(request: FunctionInvocationRequest): Promise<FunctionInvocationResult> {
    this.calls++;
    if (this.running.length >= this.slots) throw new SwitchyardError('FUNCTION_THROTTLED', 'Rate Exceeded.');
    return new Promise((resolve) => {
      const entry = {
        request,
        end: (r: FunctionInvocationResult) => {
          this.running.splice(this.running.indexOf(entry), 1);
          resolve(r);
        },
      };
      this.running.push(entry);
    });
  }
}

const event = (n: number): FunctionInvocationRequest => ({
  service: 'orders',
  version: '1',
  payload: Buffer.from(String(n)),
  invokedFunctionArn: 'arn',
  tailLog: false,
});
const ok: FunctionInvocationResult = { kind: 'response', payload: Buffer.from('null') };
const failed: FunctionInvocationResult = { kind: 'function-error', payload: Buffer.from('{"errorType":"E"}') };
const settle = () => new Promise((r) => setImmediate(r));

describe('the Event queue', () => {
  it('holds events beyond concurrency and runs each as a slot frees, losing none', async () => {
    const clock = new ManualClock();
    const invoker = new HeldInvoker(1);
    const queue = new EventQueue({ invoker, clock, log: createLogger({ level: 'silent' }), concurrencyOf: () => 1 });
    for (const n of [1, 2, 3]) expect(queue.enqueue(event(n), `r${n}`)).toBe(true);
    await settle();
    expect(invoker.running.map((r) => String(r.request.payload))).toEqual(['1']);
    expect(queue.held('orders')).toBe(3);
    invoker.running[0]!.end(ok);
    await settle();
    expect(invoker.running.map((r) => String(r.request.payload))).toEqual(['2']);
    invoker.running[0]!.end(ok);
    await settle();
    invoker.running[0]!.end(ok);
    await settle();
    expect(queue.held('orders')).toBe(0);
    queue.close();
  });

  it('retries a throttled event after a backoff when none of its own runs (a synchronous caller holds the slot)', async () => {
    const clock = new ManualClock();
    const invoker = new HeldInvoker(0);
    const queue = new EventQueue({ invoker, clock, log: createLogger({ level: 'silent' }), concurrencyOf: () => 1 });
    queue.enqueue(event(1), 'r1');
    await settle();
    expect(invoker.calls).toBe(1);
    await clock.advance(50);
    expect(invoker.calls).toBe(2);
    await clock.advance(100);
    expect(invoker.calls).toBe(3);
    expect(queue.held('orders')).toBe(1);
    queue.close();
    await clock.advance(10_000);
    expect(invoker.calls).toBe(3);
  });

  it('tries a failed event twice more, after 1 and 2 minutes, then drops it', async () => {
    const clock = new ManualClock();
    const invoker = new HeldInvoker(5);
    const queue = new EventQueue({ invoker, clock, log: createLogger({ level: 'silent' }), concurrencyOf: () => 1 });
    queue.enqueue(event(1), 'r1');
    await settle();
    invoker.running[0]!.end(failed);
    await settle();
    expect(queue.held('orders')).toBe(1);
    await clock.advance(59_999);
    expect(invoker.calls).toBe(1);
    await clock.advance(1);
    expect(invoker.calls).toBe(2);
    invoker.running[0]!.end(failed);
    await settle();
    await clock.advance(120_000);
    expect(invoker.calls).toBe(3);
    invoker.running[0]!.end(failed);
    await settle();
    await clock.advance(600_000);
    expect(invoker.calls).toBe(3);
    expect(queue.held('orders')).toBe(0);
  });

  it('refuses an event beyond its capacity', async () => {
    const queue = new EventQueue({
      invoker: new HeldInvoker(0),
      clock: new ManualClock(),
      log: createLogger({ level: 'silent' }),
      concurrencyOf: () => 1,
      capacity: 2,
    });
    expect(queue.enqueue(event(1), 'r1')).toBe(true);
    expect(queue.enqueue(event(2), 'r2')).toBe(true);
    expect(queue.enqueue(event(3), 'r3')).toBe(false);
    queue.close();
    expect(queue.enqueue(event(4), 'r4')).toBe(false);
  });
});
