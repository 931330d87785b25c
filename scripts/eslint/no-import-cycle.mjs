// An ESLint rule: no module imports, directly or through others, a module that
// imports it back. Unlike import-x's no-cycle it follows `import type` too: a
// type-only circle still ties two modules into one. The import graph is read
// once per lint run with TypeScript's own import scanner (relative imports,
// `export ... from`, require() and import() of a literal path).
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const edges = new Map();

function resolve(from, specifier) {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function importsOf(file) {
  let found = edges.get(file);
  if (found) return found;
  found = [];
  edges.set(file, found);
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const target = resolve(file, fileName);
    if (target && !found.includes(target)) found.push(target);
  }
  return found;
}

// The shortest chain of imports from `start` back to `start`, or undefined.
function cycleThrough(start) {
  const cameFrom = new Map();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const next of importsOf(queue[i])) {
      if (next === start) {
        const chain = [queue[i]];
        while (chain[0] !== start) chain.unshift(cameFrom.get(chain[0]));
        return chain;
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, queue[i]);
        queue.push(next);
      }
    }
  }
  return undefined;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'forbid import cycles, type-only imports included' },
    messages: { cycle: 'import cycle: {{chain}}' },
    schema: [],
  },
  create(context) {
    const file = context.physicalFilename;
    if (!file.endsWith('.ts')) return {};
    return {
      Program(node) {
        const chain = cycleThrough(path.resolve(file));
        if (!chain) return;
        const cwd = context.cwd;
        context.report({ node, messageId: 'cycle', data: { chain: [...chain, chain[0]].map((f) => path.relative(cwd, f)).join(' -> ') } });
      },
    };
  },
};
