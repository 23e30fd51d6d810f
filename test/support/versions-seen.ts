/**
 * What a data plane routed to, as a client sees it: the version header of each answer on one keep-alive
 * connection, in order.
 */
import { Agent, request } from 'undici';
import { onTestFinished } from 'vitest';

/** The versions that answered `n` GETs to `url` (a data plane's production listener), in order. */
export async function versionsSeen(url: string, n: number): Promise<string[]> {
  const agent = new Agent({ connections: 1 });
  onTestFinished(() => agent.close());
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await request(`${url}/`, { dispatcher: agent });
    await res.body.dump();
    out.push(String(res.headers['x-switchyard-version']));
  }
  return out;
}

/** How many of `seen` were version 2. */
export const greens = (seen: readonly string[]) => seen.filter((v) => v === '2').length;
