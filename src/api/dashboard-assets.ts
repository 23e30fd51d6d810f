/**
 * @module api/dashboard-assets
 * The dashboard's files as the control API serves them: read once from the package's `dashboard/` folder
 * (and uPlot's browser build from its package), each kept in memory with its ETag and its brotli and gzip
 * forms, so that a request costs a map lookup and a write. They change only with the installed package.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

import { describeError } from '../core/describe-error.js';
import { SwitchyardError } from '../core/errors.js';

const brotli = promisify(brotliCompress);
const gzipOf = promisify(gzip);

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/** Files served from the chart library's package, by their path under `/ui/`. */
const VENDOR: Readonly<Record<string, string>> = {
  'vendor/uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'vendor/uPlot.min.css': 'uplot/dist/uPlot.min.css',
};

/** One file ready to send. */
export interface Asset {
  readonly type: string;
  readonly etag: string;
  readonly identity: Buffer;
  readonly br?: Buffer;
  readonly gzip?: Buffer;
}

/** The dashboard's files by their path under `/ui/` (`index.html` is also the page of every route). */
export type AssetTable = ReadonlyMap<string, Asset>;

async function assetOf(path: string, bytes: Buffer): Promise<Asset> {
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`;
  // Images are compressed already; text is what the budget counts compressed.
  if (!type.startsWith('text/') && !type.startsWith('application/json') && type !== 'image/svg+xml') {
    return { type, etag, identity: bytes };
  }
  const [br, gz] = await Promise.all([
    brotli(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }),
    gzipOf(bytes, { level: 9 }),
  ]);
  return {
    type,
    etag,
    identity: bytes,
    ...(br.length < bytes.length && { br }),
    ...(gz.length < bytes.length && { gzip: gz }),
  };
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && TYPES[extname(entry.name)] !== undefined && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Reads and compresses every servable file of `root` and the vendored chart library. */
export async function loadAssets(root: string): Promise<AssetTable> {
  const require = createRequire(import.meta.url);
  const sources: [string, string][] = Object.entries(VENDOR).map(([path, spec]) => [path, require.resolve(spec)]);
  try {
    for (const file of await filesUnder(root)) sources.push([relative(root, file).split(sep).join('/'), file]);
    const assets = await Promise.all(
      sources.map(async ([path, file]) => [path, await assetOf(path, await readFile(file))] as const),
    );
    return new Map(assets);
  } catch (cause) {
    throw new SwitchyardError('INTERNAL', `cannot read the dashboard's files: ${describeError(cause)}`, { cause });
  }
}

/** The encoding to send for an `Accept-Encoding` header: brotli, else gzip, else none. */
export function chooseEncoding(accept: string | undefined, asset: Asset): 'br' | 'gzip' | undefined {
  if (!accept) return undefined;
  const wanted = new Set<string>();
  for (const part of accept.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    wanted.add(name.trim());
  }
  if (asset.br && (wanted.has('br') || wanted.has('*'))) return 'br';
  if (asset.gzip && (wanted.has('gzip') || wanted.has('*'))) return 'gzip';
  return undefined;
}
