/**
 * The two-plane split is a rule, checked here by reading the sources: the data plane imports nothing
 * from the control side, and core imports nothing from the rest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

/** Folders (under src/) that a file in `folder` imports from. */
function importedFolders(folder: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of sources(join(SRC, folder))) {
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, join(file, '..', spec)).split('/')[0]!;
      const list = out.get(target) ?? [];
      list.push(relative(SRC, file));
      out.set(target, list);
    }
  }
  return out;
}

describe('architecture', () => {
  it('the data plane (src/proxy) imports only from core and itself', () => {
    const folders = [...importedFolders('proxy').keys()].filter((f) => f !== 'proxy' && f !== 'core');
    expect(folders).toEqual([]);
  });

  it('core imports nothing from the rest of src', () => {
    const folders = [...importedFolders('core').keys()].filter((f) => f !== 'core');
    expect(folders).toEqual([]);
  });

  it('the shifting core imports only core, config and appspec: adapters come in through interfaces', () => {
    const allowed = new Set(['shifting', 'core', 'config', 'appspec']);
    const folders = [...importedFolders('shifting').keys()].filter((f) => !allowed.has(f));
    expect(folders).toEqual([]);
  });
});
