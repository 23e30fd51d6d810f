import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { DEFAULT_HOOK_TIMEOUT_MS, HookRegistry, HooksConfig, lambdaFunctionName } from '../../src/config/hooks.js';
import { ManualClock } from '../../src/core/clock.js';
import { isSwitchyardError } from '../../src/core/errors.js';
import { TAIL_BYTES, TailBuffer } from '../../src/core/tail-buffer.js';
import { ExecutionLog, HookReportError } from '../../src/hooks/executions.js';
import { hookPayloadBody } from '../../src/hooks/http-hook.js';
import { HookExecutor } from '../../src/hooks/runner.js';
import type { HookInvocation } from '../../src/shifting/ports.js';
import { logSink } from '../support/log-sink.js';
import { startUpstream } from '../support/upstream.js';

const sink = logSink;

function invocation(overrides: Partial<HookInvocation> = {}): HookInvocation {
  return {
    deploymentId: 'd-UNIT00001',
    executionId: 'exec-1',
    applicationName: 'app',
    deploymentGroupName: 'group',
    event: 'BeforeAllowTraffic',
    target: 'missing',
    timeoutMs: 60_000,
    ...overrides,
  };
}

function executor(hooks: unknown = {}, clock = new ManualClock(1_000)) {
  const logs = sink();
  const runner = new HookExecutor({
    hooks: HooksConfig.parse(hooks),
    clock,
    logger: pino({ level: 'info' }, logs.stream),
    endpoint: 'http://127.0.0.1:9900',
    killGraceMs: 100,
  });
  return { runner, clock, logs: logs.lines };
}

/** The error `fn` throws, as a HookReportError. */
function reportError(fn: () => void): HookReportError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HookReportError);
    return e as HookReportError;
  }
  throw new Error('expected report() to throw');
}

describe('hooks config', () => {
  it('fills defaults: async mode and CodeDeploy’s one-hour timeout', () => {
    const hooks = HooksConfig.parse({
      web: { url: 'https://hooks.example/check' },
      smoke: { command: 'npm test', env: { A: '1' }, timeout: '30s' },
      argv: { command: ['node', 'smoke.js'], cwd: '/srv', timeout: 2500 },
      fast: { url: 'http://127.0.0.1:8080/h', mode: 'sync', timeout: '5m' },
    });
    expect(hooks['web']).toEqual({
      kind: 'http',
      url: 'https://hooks.example/check',
      mode: 'async',
      timeoutMs: DEFAULT_HOOK_TIMEOUT_MS,
    });
    expect(DEFAULT_HOOK_TIMEOUT_MS).toBe(3_600_000);
    expect(hooks['smoke']).toEqual({
      kind: 'command',
      command: 'npm test',
      env: { A: '1' },
      cwd: undefined,
      timeoutMs: 30_000,
    });
    expect(hooks['argv']).toEqual({
      kind: 'command',
      command: ['node', 'smoke.js'],
      env: {},
      cwd: '/srv',
      timeoutMs: 2500,
    });
    expect(hooks['fast']).toMatchObject({ kind: 'http', mode: 'sync', timeoutMs: 300_000 });
    expect(HooksConfig.parse(undefined)).toEqual({});
  });

  it.each([
    [{ h: { url: 'http://a', command: 'x' } }, 'h', 'exactly one of url or command'],
    [{ h: {} }, 'h', 'exactly one of url or command'],
    [{ h: { url: 'ftp://a/b' } }, 'h.url', 'http(s) URL'],
    [{ h: { url: 'http://a', env: { A: '1' } } }, 'h.env', 'not an option of an HTTP hook'],
    [{ h: { command: 'x', mode: 'sync' } }, 'h.mode', 'not an option of a command hook'],
    [{ h: { url: 'http://a', mode: 'later' } }, 'h.mode', ''],
    [{ h: { command: [] } }, 'h.command', ''],
    [{ h: { command: 'x', timeout: 'soon' } }, 'h.timeout', 'must be a duration'],
    [{ h: { command: 'x', shell: true } }, 'h', 'shell'],
  ])('rejects %j at %s', (input, path, message) => {
    const result = HooksConfig.safeParse(input);
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find(
      (i) => i.path.join('.') === path || (path === 'h' && i.path.join('.') === 'h'),
    );
    expect(issue, JSON.stringify(result.error!.issues)).toBeDefined();
    expect(JSON.stringify(result.error!.issues)).toContain(message);
  });
});

describe('HookRegistry', () => {
  const registry = new HookRegistry(
    HooksConfig.parse({ smoke: { command: 'true' }, web: { url: 'http://x/h', timeout: '2m' } }),
  );

  it('resolves names through the map, and an http(s) URL as an async HTTP hook', () => {
    expect(registry.resolve('smoke')).toMatchObject({ ok: true, spec: { kind: 'command' } });
    expect(registry.resolve('https://hooks.example/a')).toEqual({
      ok: true,
      spec: { kind: 'http', url: 'https://hooks.example/a', mode: 'async', timeoutMs: DEFAULT_HOOK_TIMEOUT_MS },
    });
    expect(registry.timeoutOf('web')).toBe(120_000);
    expect(registry.timeoutOf('http://other/')).toBe(DEFAULT_HOOK_TIMEOUT_MS);
  });

  it('resolves a Lambda function ARN (as SAM writes hooks) by its function name, with or without a qualifier', () => {
    for (const arn of [
      'arn:aws:lambda:us-east-1:123456789012:function:smoke',
      'arn:aws:lambda:eu-west-1:123456789012:function:smoke:live',
      'arn:aws-cn:lambda:cn-north-1:123456789012:function:smoke:7',
    ]) {
      expect(registry.resolve(arn), arn).toMatchObject({ ok: true, spec: { kind: 'command' } });
    }
    expect(registry.timeoutOf('arn:aws:lambda:us-east-1:123456789012:function:web')).toBe(120_000);
    expect(registry.resolve('arn:aws:lambda:us-east-1:123456789012:function:unknown').ok).toBe(false);
    expect(registry.resolve('arn:aws:lambda:us-east-1:123456789012:layer:smoke').ok).toBe(false);
    expect(lambdaFunctionName('arn:aws:lambda:us-east-1:1:function:fn:$LATEST')).toBe('fn');
    expect(lambdaFunctionName('smoke')).toBeUndefined();
  });

  it('names the known hooks when a target is neither', () => {
    const resolved = registry.resolve('CodeDeployHook_beforeAllowTraffic');
    expect(resolved.ok).toBe(false);
    expect(!resolved.ok && resolved.message).toMatch(/"CodeDeployHook_beforeAllowTraffic".*known hooks: smoke, web/);
    const empty = new HookRegistry().resolve('x');
    expect(!empty.ok && empty.message).toContain('defines no hooks');
  });
});

describe('TailBuffer', () => {
  it('keeps the last 20 lines of interleaved output', () => {
    const tail = new TailBuffer();
    for (let i = 1; i <= 30; i++) tail.push(Buffer.from(`line ${i}\n`), i % 2 ? 'out' : 'err');
    const lines = tail.tail().split('\n');
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe('line 11');
    expect(lines.at(-1)).toBe('line 30');
  });

  it('caps the tail at 4 KiB and never splits a character', () => {
    const tail = new TailBuffer();
    tail.push(Buffer.from('é'.repeat(10_000)));
    const text = tail.tail();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(TAIL_BYTES);
    expect(text).toMatch(/^é+$/);
  });

  it('joins a multi-byte character split across chunks', () => {
    const tail = new TailBuffer();
    const bytes = Buffer.from('ok ✓');
    tail.push(bytes.subarray(0, 4), 'out');
    tail.push(Buffer.from('x'), 'err');
    tail.push(bytes.subarray(4), 'out');
    expect(tail.tail()).toBe('ok x✓');
  });
});

describe('ExecutionLog', () => {
  it('forgets the oldest finished executions beyond its limit, never running ones', () => {
    const log = new ExecutionLog(2);
    const base = {
      deploymentId: 'd',
      event: 'AfterAllowTraffic',
      target: 't',
      kind: 'http',
      startTime: 0,
      status: 'InProgress',
    } as const;
    for (const id of ['a', 'b', 'c', 'd']) log.start({ ...base, executionId: id });
    log.finish('b', { endTime: 1, status: 'Succeeded' });
    log.finish('c', { endTime: 2, status: 'Failed' });
    log.finish('d', { endTime: 3, status: 'Succeeded' });
    expect(log.of('d').map((e) => e.executionId)).toEqual(['a', 'c', 'd']);
    expect(log.pending().map((e) => e.executionId)).toEqual(['a']);
  });
});

describe('HookExecutor', () => {
  it('fails a target that names no hook at once with ScriptMissing, and records it', async () => {
    const { runner, logs } = executor({ smoke: { command: 'true' } });
    const outcome = await runner.run(invocation({ target: 'nope' }), new AbortController().signal);
    expect(outcome.status).toBe('Failed');
    expect(outcome.diagnostics).toMatchObject({ errorCode: 'ScriptMissing', scriptName: 'nope', logTail: '' });
    expect(outcome.diagnostics.message).toContain('known hooks: smoke');
    expect(runner.executions('d-UNIT00001')).toEqual([
      expect.objectContaining({
        executionId: 'exec-1',
        kind: 'unresolved',
        status: 'Failed',
        startTime: 1000,
        endTime: 1000,
      }),
    ]);
    const failure = logs.find((l) => l['msg'] === 'hook failed');
    expect(failure).toMatchObject({
      level: 40,
      deploymentId: 'd-UNIT00001',
      event: 'BeforeAllowTraffic',
      executionId: 'exec-1',
    });
  });

  it('fails at once, without running the hook, when the deployment is already stopped', async () => {
    const { runner } = executor({ smoke: { command: ['/nonexistent/never-run'] } });
    const controller = new AbortController();
    controller.abort();
    const outcome = await runner.run(invocation({ target: 'smoke' }), controller.signal);
    expect(outcome.diagnostics).toMatchObject({ errorCode: 'UnknownError', message: 'deployment stopped' });
  });

  it('refuses a reused execution id', async () => {
    const { runner } = executor();
    await runner.run(invocation(), new AbortController().signal);
    const second = await runner.run(invocation(), new AbortController().signal);
    expect(second.diagnostics.message).toContain('already in use');
    expect(runner.executions('d-UNIT00001')).toHaveLength(1);
  });

  describe('report()', () => {
    it('refuses statuses other than Succeeded and Failed', () => {
      const { runner } = executor();
      for (const status of ['InProgress', 'Pending', 'Skipped', 'succeeded', '']) {
        const err = reportError(() => runner.report('d-UNIT00001', 'exec-1', status));
        expect(err.awsType).toBe('InvalidLifecycleEventHookExecutionStatusException');
        expect(isSwitchyardError(err, 'ARGUMENTS_INVALID')).toBe(true);
        expect(err.statusCode).toBe(400);
      }
    });

    it('treats an unknown id, or an id of another deployment, as unknown', async () => {
      const { runner } = executor();
      expect(reportError(() => runner.report('d-UNIT00001', 'nope', 'Succeeded')).awsType).toBe(
        'InvalidLifecycleEventHookExecutionIdException',
      );
      await runner.run(invocation(), new AbortController().signal);
      expect(reportError(() => runner.report('d-OTHER', 'exec-1', 'Succeeded')).awsType).toBe(
        'InvalidLifecycleEventHookExecutionIdException',
      );
    });

    it('answers a report for a finished execution with AlreadyCompleted', async () => {
      const { runner } = executor();
      await runner.run(invocation(), new AbortController().signal);
      const err = reportError(() => runner.report('d-UNIT00001', 'exec-1', 'Succeeded'));
      expect(err.awsType).toBe('LifecycleEventAlreadyCompletedException');
      expect(err.message).toContain('Failed');
    });

    it('settles a waiting async hook; the first report wins and a second is AlreadyCompleted', async () => {
      const hook = await startUpstream('hook', (_req, res) => res.writeHead(202).end());
      const { runner, clock } = executor({ web: { url: hook.url } });
      const running = runner.run(invocation({ target: 'web' }), new AbortController().signal);
      await expect.poll(() => hook.hits).toBe(1);
      expect(runner.pending().map((e) => e.executionId)).toEqual(['exec-1']);
      await clock.advance(250);
      runner.report('d-UNIT00001', 'exec-1', 'Failed');
      expect(reportError(() => runner.report('d-UNIT00001', 'exec-1', 'Succeeded')).awsType).toBe(
        'LifecycleEventAlreadyCompletedException',
      );
      const outcome = await running;
      expect(outcome).toEqual({
        status: 'Failed',
        diagnostics: { errorCode: 'ScriptFailed', scriptName: 'web', message: 'the hook reported Failed', logTail: '' },
      });
      expect(runner.pending()).toEqual([]);
      expect(runner.executions('d-UNIT00001')[0]).toMatchObject({
        startTime: 1000,
        endTime: 1250,
        status: 'Failed',
        kind: 'http',
      });
    });

    it('times out on the injected clock with ScriptTimedOut, and a late report is AlreadyCompleted', async () => {
      const hook = await startUpstream('hook', (_req, res) => res.writeHead(200).end());
      const { runner, clock } = executor({ web: { url: hook.url } });
      let outcome: unknown;
      void runner
        .run(invocation({ target: 'web', timeoutMs: 30_000 }), new AbortController().signal)
        .then((o) => (outcome = o));
      await expect.poll(() => hook.hits).toBe(1);
      await clock.advance(29_999);
      expect(outcome).toBeUndefined();
      await clock.advance(1);
      expect(outcome).toMatchObject({
        status: 'Failed',
        diagnostics: {
          errorCode: 'ScriptTimedOut',
          message: 'no PutLifecycleEventHookExecutionStatus report within 30s',
        },
      });
      expect(runner.executions('d-UNIT00001')[0]).toMatchObject({ endTime: 31_000 });
      expect(reportError(() => runner.report('d-UNIT00001', 'exec-1', 'Succeeded')).awsType).toBe(
        'LifecycleEventAlreadyCompletedException',
      );
    });
  });

  it('keeps no clock timers once an execution has settled', async () => {
    const hook = await startUpstream('hook', (_req, res) => res.writeHead(202).end());
    const { runner, clock } = executor({ web: { url: hook.url } });
    const running = runner.run(invocation({ target: 'web' }), new AbortController().signal);
    expect(clock.pending).toBe(1);
    await expect.poll(() => hook.hits).toBe(1);
    runner.report('d-UNIT00001', 'exec-1', 'Succeeded');
    expect((await running).diagnostics).toEqual({
      errorCode: 'Success',
      message: 'Succeeded',
      scriptName: 'web',
      logTail: '',
    });
    expect(clock.pending).toBe(0);
  });

  it('sends exactly the two ids CodeDeploy sends', () => {
    expect(hookPayloadBody({ deploymentId: 'd-1', executionId: 'e-1' })).toBe(
      '{"DeploymentId":"d-1","LifecycleEventHookExecutionId":"e-1"}',
    );
  });
});
