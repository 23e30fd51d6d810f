/**
 * @module lab/live
 * The policy lab's live mode: real deployments through the real proxy under real open-loop load.
 */
export { liveConfig, liveConfigInput } from './live-config.js';
export { type LiveRunOptions, runLive } from './live-run.js';
export { type LoadRecord, type RunningLoad, startLoad } from './load.js';
