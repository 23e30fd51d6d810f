/**
 * @module lab/sim
 * The policy lab's simulated mode: runs of an experiment on a virtual clock, with the engine's own
 * schedule, alarm rules and statistics, and the load and the versions' behaviour drawn per tick.
 */
export { measureSimulation, type SimulationSpeed } from './benchmark.js';
export { checkSimulable } from './deployment.js';
export { simulateRun } from './simulate.js';
