// @ts-check
/**
 * The `switchyard/layers` rule: an import in src/ that architecture/layers.js does not allow is an error
 * at the import, with the rule it breaks. Type-only imports and `import('…')` types count too.
 */
import { dirname, join, relative, resolve } from 'node:path';

import { importProblem } from './layers.js';

const SRC = join(import.meta.dirname, '..', 'src');

/**
 * The src-relative .ts path a relative specifier in `file` names, or undefined outside src/.
 * @param {string} file
 * @param {string} specifier
 */
function target(file, specifier) {
  const path = relative(SRC, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts');
  return path.startsWith('..') ? undefined : path;
}

/** @type {import('eslint').Rule.RuleModule} */
const layers = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports in src/ follow the layers in architecture/layers.js' },
    schema: [],
  },
  create(context) {
    const from = relative(SRC, context.filename);
    if (from.startsWith('..')) return {};
    /** @param {import('estree').Node} node @param {unknown} value */
    const check = (node, value) => {
      if (typeof value !== 'string' || !value.startsWith('.')) return;
      const to = target(context.filename, value);
      const problem = to && importProblem(from, to);
      if (problem) context.report({ node, message: problem });
    };
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
      /** @param {any} node typescript-eslint's TSImportType (`import('…').T`), which estree's types lack */
      TSImportType: (node) => {
        const literal = node.source ?? node.argument?.literal;
        if (literal?.type === 'Literal') check(literal, literal.value);
      },
    };
  },
};

export default { meta: { name: 'switchyard' }, rules: { layers } };
