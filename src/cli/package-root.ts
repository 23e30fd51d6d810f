/**
 * @module cli/package-root
 * Finds files shipped with the package (config/demo.yml) wherever it is installed or built; the search
 * itself is core's, shared with the lab's report pages.
 */
export { packageRoot } from '../core/package-root.js';
