// @ts-check
import js from '@eslint/js';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

import switchyard from './architecture/eslint-plugin.js';

/** The browser's names the dashboard's modules use (tsc checks them against the DOM's types as well). */
const DASHBOARD_GLOBALS = [
  'AbortController',
  'Date',
  'document',
  'Element',
  'Event',
  'fetch',
  'File',
  'history',
  'HTMLAnchorElement',
  'HTMLDialogElement',
  'HTMLElement',
  'location',
  'Node',
  'ResizeObserver',
  'Response',
  'sessionStorage',
  'setTimeout',
  'clearTimeout',
  'TextDecoderStream',
  'uPlot',
  'window',
];

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      // Imports and exports in one order everywhere, fixed by `npm run format`.
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      // Non-null assertions are used where noUncheckedIndexedAccess cannot see an index is in range.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      // fastify handlers are async by contract even when they have nothing to await.
      '@typescript-eslint/require-await': 'off',
      'no-console': 'error',
    },
  },
  {
    // One direction for every import (architecture/layers.js), the same list the architecture test checks.
    files: ['src/**/*.ts'],
    plugins: { switchyard },
    rules: {
      'switchyard/layers': 'error',
      // Small modules with one job: a file past these has more than one.
      'max-lines': ['error', { max: 450, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false, IIFEs: true }],
    },
  },
  {
    // Tests may poke at internals and use loose shapes for fixtures.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/use-unknown-in-catch-callback-variable': 'off',
      'no-console': 'off',
    },
  },
  {
    // The dashboard: plain browser modules, type-checked by tsconfig.dashboard.json (checkJs, JSDoc types).
    files: ['dashboard/**/*.js', 'dashboard/**/*.d.ts'],
    ignores: ['dashboard/lab-charts.js'],
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: ['./tsconfig.dashboard.json'],
        tsconfigRootDir: import.meta.dirname,
      },
      globals: Object.fromEntries(DASHBOARD_GLOBALS.map((name) => [name, 'readonly'])),
    },
    rules: {
      'max-lines': ['error', { max: 450, skipBlankLines: false, skipComments: false }],
    },
  },
  {
    // The lab report's drawing script: a classic script in plain ES2017 (report.html inlines it), so no types.
    files: ['dashboard/lab-charts.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'script',
      globals: Object.fromEntries(DASHBOARD_GLOBALS.map((name) => [name, 'readonly'])),
    },
  },
  {
    // The dashboard's unit tests import its browser modules, so they are checked with its DOM types.
    files: ['test/unit/dashboard-*.test.ts'],
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: ['./tsconfig.dashboard.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  { files: ['eslint.config.js', 'architecture/**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    // Plain scripts that tests start as child processes (Node 20 cannot run TypeScript directly).
    files: ['test/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-console': 'off' },
  },
  {
    // Function code run in its own Node processes (the tests' and the examples'): ESM and CommonJS, untyped.
    files: ['test/fixtures/functions/**/*.{js,mjs,cjs}', 'config/functions/**/*.{js,mjs,cjs}'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', exports: 'writable' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-console': 'off' },
  },
);
