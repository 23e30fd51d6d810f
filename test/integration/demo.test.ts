/**
 * `switchyard demo` as a user runs it: two built-in versions behind the proxy from config/demo.yml, on
 * ports moved by environment variables, printing where to send requests and stopping cleanly on Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

let cli: string;
beforeAll(async () => {
  cli = inject('cliMain');
}, 120_000);

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** `n` distinct ports free right now: all bound at once on port 0, then released. */
async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    servers.push(server);
    ports.push((server.address() as { port: number }).port);
  }
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

interface Demo {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly ports: { prod: number; test: number; control: number; blue: number; green: number };
}

/** `switchyard demo` in a child process, its five ports moved by the environment as a user would. */
function spawnDemo(ports: Demo['ports']): ChildProcess {
  return spawn(process.execPath, [cli, 'demo'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DEMO_PORT: String(ports.prod),
      DEMO_TEST_PORT: String(ports.test),
      DEMO_CONTROL_PORT: String(ports.control),
      DEMO_BLUE_PORT: String(ports.blue),
      DEMO_GREEN_PORT: String(ports.green),
    },
  });
}

async function startDemo(): Promise<Demo> {
  const [prod, test, control, blue, green] = (await freePorts(5)) as [number, number, number, number, number];
  const child = spawnDemo({ prod, test, control, blue, green });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (/stop\s+Ctrl-C/.test(output)) resolve();
    };
    child.stdout!.on('data', check);
    void exit.then(({ code }) =>
      reject(new Error(`demo exited with ${code} before it was ready:\n${output}`)),
    );
  });
  return { child, output: () => output, exit, ports: { prod, test, control, blue, green } };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await request(url, { headers });
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

describe('switchyard demo', () => {
  it('serves blue and green 90/10, exactly, and tells the user how', async () => {
    const demo = await startDemo();
    const prod = `http://127.0.0.1:${demo.ports.prod}`;
    const out = demo.output();
    expect(out).toContain(`blue (version 1) at http://127.0.0.1:${demo.ports.blue}`);
    expect(out).toContain(`green (version 2) at http://127.0.0.1:${demo.ports.green}`);
    expect(out).toContain(`curl -s ${prod}/`);
    expect(out).toContain(`http://127.0.0.1:${demo.ports.control}/v1/services/demo/weight`);
    expect(out).toContain('{"1":90,"2":10}');

    const answers: string[] = [];
    for (let i = 0; i < 10; i++) answers.push(await get(`${prod}/`));
    expect(answers.filter((a) => a === 'hello from blue (version 1)\n')).toHaveLength(9);
    expect(answers.filter((a) => a === 'hello from green (version 2)\n')).toHaveLength(1);
    // And again: exact in every window of ten, not on average.
    const next: string[] = [];
    for (let i = 0; i < 10; i++) next.push(await get(`${prod}/`));
    expect(next.filter((a) => a.startsWith('hello from green'))).toHaveLength(1);

    // The printed commands work: pin a version, the test listener, a shift through the control port.
    expect(await get(`${prod}/`, { 'x-switchyard-version': '2' })).toBe('hello from green (version 2)\n');
    expect(await get(`http://127.0.0.1:${demo.ports.test}/`)).toBe('hello from blue (version 1)\n');
    const json = JSON.parse(await get(`${prod}/path?q=1`, { accept: 'application/json' })) as object;
    expect(json).toMatchObject({ method: 'GET', path: '/path?q=1' });
    const shift = await request(`http://127.0.0.1:${demo.ports.control}/v1/services/demo/weight`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: '2', percent: 50 }),
    });
    expect(shift.statusCode).toBe(200);
    await shift.body.dump();
    const shifted: string[] = [];
    for (let i = 0; i < 10; i++) shifted.push(await get(`${prod}/`));
    expect(shifted.filter((a) => a.startsWith('hello from green'))).toHaveLength(5);

    const signalled = Date.now();
    demo.child.kill('SIGINT');
    expect(await demo.exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(3_000);
    // Everything it started is gone with it.
    for (const port of Object.values(demo.ports)) {
      await expect(request(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    }
  });

  it('stops with exit code 1 and a clear message when a port is taken', async () => {
    const [taken] = (await freePorts(1)) as [number];
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', () => resolve()));
    try {
      const [prod, test, control, green] = (await freePorts(4)) as [number, number, number, number];
      const child = spawnDemo({ prod, test, control, blue: taken, green });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(stderr).toMatch(/demo upstream cannot start/);
      expect(stderr).toMatch(/EADDRINUSE/);
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
