/**
 * The layers are rules, checked here by reading the sources: every import in src/ (type-only ones and
 * `import('…')` types included) is one architecture/layers.js allows, and neither the folders nor the
 * files import each other in a circle. ESLint's `switchyard/layers` rule applies the same list in the
 * editor; both are shown failing on a deliberate violation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

import { ESLint } from 'eslint';
import ts from 'typescript';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

import switchyard from '../../architecture/eslint-plugin.js';
import { ADAPTERS, importProblem, LAYERS } from '../../architecture/layers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every file of src/ with the src/ files it imports, as src-relative paths. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    // TypeScript's own scanner: import and export declarations, `import type`, and `import('…')` types.
    const imported = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
    const local = imported
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts'));
    graph.set(relative(SRC, file), [...new Set(local)]);
  }
  return graph;
}

/** The strongly connected parts of a graph with more than one member (or a member importing itself). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const part: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      part.push(w);
    } while (w !== v);
    if (part.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(part.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function folderGraph(files: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const folders = new Map<string, Set<string>>();
  for (const [file, imports] of files) {
    const from = file.split('/')[0]!;
    const set = folders.get(from) ?? new Set<string>();
    for (const to of imports) if (to.split('/')[0] !== from) set.add(to.split('/')[0]!);
    folders.set(from, set);
  }
  return new Map([...folders].map(([k, v]) => [k, [...v]]));
}

const graph = importGraph();

describe('architecture', () => {
  it('places every folder of src/ in a layer', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !Object.hasOwn(LAYERS, f))).toEqual([]);
    expect(readdirSync(SRC).filter((f) => f.endsWith('.ts'))).toEqual([]);
  });

  it('every import in src/ is one the layers allow', () => {
    const problems = [...graph].flatMap(([from, imports]) =>
      imports.flatMap((to) => {
        const problem = importProblem(from, to);
        return problem ? [`${from} → ${to}: ${problem}`] : [];
      }),
    );
    expect(problems).toEqual([]);
  });

  it('the allowed imports form no circle, and neither do the actual ones, between folders or files', () => {
    expect(cycles(new Map(Object.entries(LAYERS)))).toEqual([]);
    expect(cycles(folderGraph(graph))).toEqual([]);
    expect(cycles(graph)).toEqual([]);
  });

  it("the README's list of layers is the one checked here", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /Each folder may import only these[\s\S]*?```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const listed = new Map<string, string[]>();
    for (const line of block.trim().split('\n')) {
      const [folder = '', imports = ''] = line.replace(/\s{2,}\(.*\)$/, '').split(/\s{2,}/);
      const names = imports === 'nothing' ? [] : imports.split(', ').map((name) => name.replace('/ports.ts', ''));
      listed.set(folder, names);
    }
    const above = [...listed.keys()].filter((f) => !['app', 'lab', 'cli', 'demo'].includes(f));
    const expanded = new Map<string, string[]>();
    for (const [folder, imports] of listed) {
      const names =
        imports[0] === 'all of the above' ? above.flatMap((f) => (f === 'adapters' ? ADAPTERS : [f])) : imports;
      for (const f of folder === 'adapters' ? ADAPTERS : [folder])
        expanded.set(
          f,
          names.flatMap((n) => (n === 'adapters' ? ADAPTERS : [n])),
        );
    }
    const layers: Record<string, readonly string[]> = LAYERS;
    for (const [folder, imports] of Object.entries(layers))
      expect([folder, [...(expanded.get(folder) ?? ['(missing)'])].sort()]).toEqual([folder, [...imports].sort()]);
    expect([...expanded.keys()].sort()).toEqual(Object.keys(LAYERS).sort());
  });

  it('the data plane stands on core alone, and core on nothing', () => {
    expect(LAYERS.proxy).toEqual(['core']);
    expect(LAYERS.core).toEqual([]);
  });

  it('finds a deliberate violation of each rule', () => {
    expect(importProblem('proxy/forwarder.ts', 'shifting/engine.ts')).toMatch(
      /src\/proxy may not import src\/shifting/,
    );
    expect(importProblem('core/clock.ts', 'config/schema.ts')).toMatch(/src\/core may not import src\/config/);
    expect(importProblem('tasksets/launcher.ts', 'health/probe.ts')).toMatch(/may not import src\/health/);
    expect(importProblem('notify/outbox.ts', 'shifting/engine.ts')).toMatch(/only through src\/shifting\/ports.ts/);
    expect(importProblem('notify/outbox.ts', 'shifting/ports.ts')).toBeUndefined();
    expect(importProblem('fleet/run.ts', 'core/clock.ts')).toMatch(/not in architecture\/layers.js/);
    const circle = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(circle)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('ESLint turns the layers rule on for src/ and reports a deliberate violation at its import', async () => {
    const project = new ESLint({ cwd: ROOT });
    const rules = (
      (await project.calculateConfigForFile(join(SRC, 'proxy', 'forwarder.ts'))) as { rules: Record<string, unknown> }
    ).rules;
    expect(rules['switchyard/layers']).toEqual([2]);
    // Only the layers rule, so that the check needs no type information for a file that is not on disk.
    const eslint = new ESLint({
      cwd: ROOT,
      overrideConfigFile: true,
      overrideConfig: [
        {
          files: ['**/*.ts'],
          languageOptions: { parser: tseslint.parser },
          plugins: { switchyard },
          rules: { 'switchyard/layers': 'error' },
        },
      ],
    });
    const lint = async (file: string, code: string) =>
      (await eslint.lintText(code, { filePath: join(SRC, file) }))[0]!.messages.map((m) => m.message);
    expect(
      await lint(
        'proxy/violation.ts',
        "import { DeploymentEngine } from '../shifting/engine.js';\nexport { DeploymentEngine };\n",
      ),
    ).toEqual(['src/proxy may not import src/shifting (it may import core)']);
    expect(await lint('tasksets/violation.ts', "export type P = import('../health/probe.js').Prober;\n")).toEqual([
      `src/tasksets may not import src/health (it may import ${['core', 'codedeploy', 'config', 'shifting'].join(', ')})`,
    ]);
    expect(
      await lint(
        'hooks/fine.ts',
        "import type { HookRunner } from '../shifting/ports.js';\nexport type R = HookRunner;\n",
      ),
    ).toEqual([]);
    expect(ADAPTERS).toContain('tasksets');
  });
});
