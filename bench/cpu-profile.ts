/**
 * @module bench/cpu-profile
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) and ranks functions by self time, so the
 * report can say where the proxy's CPU goes without opening a profiler UI.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One function's share of the samples. */
export interface SelfTime {
  readonly fn: string;
  /** Script and line, relative to the package when it lies inside it. */
  readonly where: string;
  readonly selfPct: number;
}

function shortUrl(url: string, root: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  return path.startsWith(root) ? path.slice(root.length).replace(/^\//, '') : path;
}

/** The newest `.cpuprofile` in `dir`, if any. */
export function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const last = files.at(-1);
  return last === undefined ? undefined : join(dir, last);
}

/** The `top` functions by self time, as percent of non-idle samples; `root` (the package directory) is cut from script paths. */
export function topSelfTime(file: string, root: string, top = 20): SelfTime[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const f = node.callFrame;
    // Idle is time the process waited for work; shares are of the time it was working.
    if (f.functionName === '(idle)') return;
    const where = f.url === '' ? '' : `${shortUrl(f.url, root)}:${f.lineNumber + 1}`;
    const key = `${f.functionName || '(anonymous)'}\u0000${where}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => {
      const [fn, where] = key.split('\u0000') as [string, string];
      return { fn, where, selfPct: total > 0 ? (100 * us) / total : 0 };
    });
}
