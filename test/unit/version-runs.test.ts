/**
 * The bookkeeping of versions run in process: one start at a time per version, a kept run reused, a
 * stopped one forgotten (and only its own entry), every run listed for shutdown.
 */
import { describe, expect, it } from 'vitest';

import { type VersionRun, VersionRuns } from '../../src/core/version-runs.js';

interface Run extends VersionRun {
  readonly n: number;
}

describe('VersionRuns', () => {
  it('starts once for concurrent prepares, reuses the kept run, and starts afresh after it is forgotten', async () => {
    const runs = new VersionRuns<Run>();
    let made = 0;
    const reused: number[] = [];
    let finish = () => {};
    const how = {
      fresh: (): Run => ({ n: ++made, starting: undefined, retiring: false }),
      start: () => new Promise<void>((resolve) => (finish = resolve)),
      reuse: (run: Run) => void reused.push(run.n),
    };
    const first = runs.prepare('web', '2', how);
    const second = runs.prepare('web', '2', how);
    finish();
    await Promise.all([first, second]);
    expect(made).toBe(1);
    await runs.prepare('web', '2', how);
    expect(reused).toEqual([1]);
    const kept = runs.get('web', '2')!;
    runs.forget('web', '2', kept);
    expect(kept.retiring).toBe(true);
    expect(runs.get('web', '2')).toBeUndefined();
    const again = runs.prepare('web', '2', how);
    finish();
    await again;
    expect(made).toBe(2);
    // Forgetting an older run leaves the newer one in place.
    runs.forget('web', '2', kept);
    expect(runs.get('web', '2')?.n).toBe(2);
    expect(runs.all().map(([service, version, run]) => [service, version, run.n])).toEqual([['web', '2', 2]]);
  });

  it('lets a failed start be tried again', async () => {
    const runs = new VersionRuns<Run>();
    const how = (fail: boolean) => ({
      fresh: (): Run => ({ n: 1, starting: undefined, retiring: false }),
      start: async (run: Run) => {
        if (fail) {
          runs.forget('web', '2', run);
          throw new Error('no');
        }
      },
      reuse: () => undefined,
    });
    await expect(runs.prepare('web', '2', how(true))).rejects.toThrow('no');
    expect(runs.get('web', '2')).toBeUndefined();
    await runs.prepare('web', '2', how(false));
    expect(runs.get('web', '2')).toMatchObject({ starting: undefined, retiring: false });
  });
});
