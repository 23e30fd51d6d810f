/**
 * @module bench/baseline
 * `BENCH_BASELINE=<git revision>`: switchyard built from another revision, run as one more target beside
 * the working tree's, so a change to the hot path is measured before and after in the same run, in
 * interleaved rounds, and read as a ratio rather than compared across runs on a machine whose speed drifts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** A built tree of another revision. */
export interface Baseline {
  /** The revision as given, and the commit it names. */
  readonly label: string;
  /** Its CLI entry point. */
  readonly main: string;
  /** Removes the tree. */
  remove(): void;
}

/**
 * Checks `revision` out into `dir` (a detached git worktree sharing this checkout's node_modules) and
 * builds it. Throws with git's or tsc's message when either fails.
 */
export function buildBaseline(packageRoot: string, revision: string, dir: string): Baseline {
  const git = (args: string[], cwd = packageRoot) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
  const commit = git(['rev-parse', '--short', `${revision}^{commit}`]);
  git(['worktree', 'add', '--detach', '--force', dir, commit]);
  const remove = () => {
    try {
      git(['worktree', 'remove', '--force', dir]);
    } catch {
      // The directory went first (the bench's work directory is removed whole): forget the worktree.
      git(['worktree', 'prune']);
    }
  };
  try {
    if (!existsSync(join(dir, 'node_modules')))
      symlinkSync(join(packageRoot, 'node_modules'), join(dir, 'node_modules'));
    const tsc = join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    remove();
    const out = (err as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`baseline ${revision} (${commit}) did not build: ${out.split('\n')[0] || (err as Error).message}`);
  }
  return { label: `${revision} (${commit})`, main: join(dir, 'dist', 'src', 'cli', 'main.js'), remove };
}
