/**
 * @module bench/cluster-of-one
 * `switchyard serve` with its data plane in one worker under a primary (the built CLI's own modules,
 * with `alwaysWorkers`): the workers scenario compares it with the single process to price the cluster's
 * own machinery (the primary handing out connections, the IPC of tables and stats) apart from what two
 * processes sharing cores cost. Usage: node cluster-of-one.js CONFIG_FILE; stops on SIGTERM.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type { startSwitchyard as StartSwitchyard } from '../src/app/start.js';
import type { untilSignal as UntilSignal } from '../src/cli/until-signal.js';
import type { loadConfig as LoadConfig } from '../src/config/load.js';

const DIST = fileURLToPath(new URL('../../dist/src/', import.meta.url));
const load = async <T>(path: string) => (await import(pathToFileURL(join(DIST, path)).href)) as T;

const { loadConfig } = await load<{ loadConfig: typeof LoadConfig }>('config/load.js');
const { startSwitchyard } = await load<{ startSwitchyard: typeof StartSwitchyard }>('app/start.js');
const { untilSignal } = await load<{ untilSignal: typeof UntilSignal }>('cli/until-signal.js');

const file = process.argv[2];
if (!file) throw new Error('usage: cluster-of-one CONFIG_FILE');
const sy = await startSwitchyard(await loadConfig(file), { alwaysWorkers: true });
sy.log.info({ urls: sy.urls }, 'switchyard is serving (one worker)');
await untilSignal(sy);
