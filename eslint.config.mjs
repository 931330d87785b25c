// The lint keeps the layout of docs/lint.md and forbids import cycles; beyond
// that it runs typescript-eslint's recommended set only. No formatter: the
// code's layout is left to its authors, and no rule here is about style.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';
import noImportCycle from './scripts/eslint/no-import-cycle.mjs';

const PARTS = ['edge', 'zone-controller', 'global-controller', 'cli'];
const HARNESSES = ['bench', 'integration', 'netns-tests', 'terraform'];
const TOP = [...PARTS, ...HARNESSES, 'lib', 'proto', 'test-support'];
// Test code: files that only tests run. Only test code may import test-support/.
const TEST_FILES = ['**/*.test.ts', '**/testing/**'];
const others = (...allowed) => TOP.filter((folder) => !allowed.includes(folder));

const zone = (target, from, message, except = []) => ({ target: `./${target}`, from: `./${from}`, except, message });
const layout = [
  // A part imports lib/, proto/, test-support/ and itself; cli may start a part through its main.
  ...PARTS.flatMap((part) => others(part, 'lib', 'proto', 'test-support').map((from) =>
    zone(part, from, `${part}/ imports only lib/, proto/ and test-support/ (docs/lint.md)`, part === 'cli' && PARTS.includes(from) ? ['./main.ts'] : []))),
  // A harness drives the parts from outside, through their main and the CLI, never their internals.
  ...HARNESSES.flatMap((harness) => ['edge', 'zone-controller', 'global-controller'].map((from) =>
    zone(harness, from, `${harness}/ starts a part through its main or the CLI, not its internals (docs/lint.md)`, ['./main.ts']))),
  ...others('lib', 'proto', 'test-support').map((from) => zone('lib', from, 'lib/ imports nothing from the parts (docs/lint.md)')),
];

export default tseslint.config(
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  { ignores: ['dist/**', 'node_modules/**', 'proto/generated/**', 'terraform/**/.terraform/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    plugins: { 'import-x': importX, meridian: { rules: { 'no-import-cycle': noImportCycle } } },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layout }],
      // import-x's no-cycle skips `import type`; this one follows every import.
      'meridian/no-import-cycle': 'error',
      // A leading underscore names a value left out on purpose (a rest sibling, a callback's unused argument).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
      // require() loads a module when it is first needed, to keep the CLI's start-up short.
      '@typescript-eslint/no-require-imports': 'off',
      // An interface merged into an EventEmitter subclass types its events.
      '@typescript-eslint/no-unsafe-declaration-merging': 'off',
      // The terminal's colour escapes are matched on purpose.
      'no-control-regex': 'off',
      // A regex that matches rendered config shows its indentation as it is written.
      'no-regex-spaces': 'off',
    },
  },
  {
    // Tests and the harnesses read JSON from the real APIs and assert it field by field.
    files: [...TEST_FILES, 'bench/**', 'integration/**', 'netns-tests/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['lib/**/*.ts', ...PARTS.map((part) => `${part}/**/*.ts`)],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/test-support/**', '**/test-support'], message: 'test-support/ is for tests only' }] }],
    },
  },
  {
    files: ['scripts/**/*.js', 'scripts/**/*.mjs', 'eslint.config.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
  },
);
