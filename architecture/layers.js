// @ts-check
/**
 * The layers of src/ as data: which folders each folder may import. One direction for every import:
 * `cli → lab → app → api → adapters → shifting (ports) → config/appspec → codedeploy → core`, and the data
 * plane (`proxy`) on core alone. test/unit/architecture.test.ts checks every import of src/ against this
 * list and finds no cycle; the `switchyard/layers` ESLint rule (./eslint-plugin.js) says the same in the
 * editor. A new folder goes into this list before it can import or be imported.
 */

/** The pieces that implement shifting's ports: they see shifting only through ports.ts, and never each other. */
export const ADAPTERS = ['hooks', 'health', 'tasksets', 'synthetic', 'functions', 'notify', 'store', 'metrics'];

const BELOW_ADAPTERS = ['core', 'codedeploy', 'config', 'shifting'];

/** For each folder of src/, the other folders it may import. */
export const LAYERS = {
  core: [],
  codedeploy: ['core'],
  config: ['core', 'codedeploy'],
  appspec: ['core', 'codedeploy'],
  proxy: ['core'],
  shifting: ['core', 'codedeploy', 'config', 'appspec'],
  ...Object.fromEntries(ADAPTERS.map((adapter) => [adapter, BELOW_ADAPTERS])),
  demo: ['core'],
  api: ['core', 'codedeploy', 'config', 'appspec', 'shifting'],
  app: ['core', 'codedeploy', 'config', 'appspec', 'shifting', 'proxy', ...ADAPTERS, 'api'],
  lab: ['core', 'codedeploy', 'config', 'appspec', 'shifting', ...ADAPTERS, 'app'],
  cli: ['core', 'codedeploy', 'config', 'appspec', 'api', 'app', 'demo', 'lab'],
};

/** Where a folder may reach only some files of another: adapters reach shifting through its ports alone. */
export const ONLY_THROUGH = [{ from: ADAPTERS, folder: 'shifting', files: ['shifting/ports.ts'] }];

/**
 * Why `from` may not import `to` (both paths relative to src/, with .ts), or undefined when it may.
 * @param {string} from
 * @param {string} to
 * @returns {string | undefined}
 */
export function importProblem(from, to) {
  const source = from.split('/')[0] ?? '';
  const target = to.split('/')[0] ?? '';
  if (source === target) return undefined;
  /** @type {Record<string, readonly string[]>} */
  const layers = LAYERS;
  const allowed = layers[source];
  if (allowed === undefined) return `src/${source} is not in architecture/layers.js: place it in a layer first`;
  if (layers[target] === undefined) return `src/${target} is not in architecture/layers.js: place it in a layer first`;
  if (!allowed.includes(target)) {
    const may = allowed.length ? allowed.join(', ') : 'nothing outside itself';
    return `src/${source} may not import src/${target} (it may import ${may})`;
  }
  for (const rule of ONLY_THROUGH) {
    if (rule.folder === target && rule.from.includes(source) && !rule.files.includes(to)) {
      return `src/${source} may import src/${target} only through ${rule.files.map((f) => `src/${f}`).join(', ')}`;
    }
  }
  return undefined;
}
