// ESLint (flat config) for Retrieval Lens. `npm test` runs it; a lint error fails the tests.
//
// The layers of README's "Layout" are enforced here, not described in comments:
//   src/core/       pure TypeScript: no vscode, no webview (DOM) code, no trainer/cli/extension
//   src/trainer/    the background process: core only (no vscode, no cli/extension/webview)
//   src/cli/        core + trainer (no vscode, no extension/webview)
//   src/extension/  the only importer of `vscode`; may use the webview's protocol module (types and validators)
//   src/webview/    browser code bundled into media/: no Node built-ins, no vscode, no trainer/cli/extension
// and no module takes part in an import cycle (import-x/no-cycle).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** A no-restricted-imports rule: `patterns` are gitignore-style groups, each with its reason. */
function restrict(...groups) {
  return ['error', { patterns: groups.map(([group, message]) => ({ group, message })) }];
}

const VSCODE = [['vscode'], 'only src/extension/ imports vscode'];
const EXTENSION = [['**/extension/**', '**/extension'], 'src/extension/ is the top layer: nothing below imports it'];
const CLI = [['**/cli/**', '**/cli'], 'src/cli/ is a top layer: nothing below imports it'];
const TRAINER = [['**/trainer/**'], 'src/trainer/ (the background process) is above src/core/'];
const WEBVIEW = [['**/webview/**'], 'src/webview/ is browser code, bundled into media/'];
const TFJS_FAISS = [['@tensorflow/*', 'faiss-node'], 'tfjs and faiss load only in the trainer process, never in the extension host'];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'out/**',
      'media/**',
      'node_modules/**',
      '.cache/**',
      'build/**',
      'test-artifacts/**',
      'examples/*/runs/**',
      '**/*.js',
      '!webpack.config.js',
      '!bin/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  { files: ['src/core/**/*.ts'], rules: { 'no-restricted-imports': restrict(VSCODE, EXTENSION, CLI, TRAINER, WEBVIEW) } },
  { files: ['src/trainer/**/*.ts'], rules: { 'no-restricted-imports': restrict(VSCODE, EXTENSION, CLI, WEBVIEW) } },
  { files: ['src/cli/**/*.ts', 'src/cli.ts'], rules: { 'no-restricted-imports': restrict(VSCODE, EXTENSION, WEBVIEW) } },
  {
    files: ['src/extension/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: TFJS_FAISS[0].filter((p) => !p.includes('*')).map((name) => ({ name, message: TFJS_FAISS[1] })),
          patterns: [
            { group: ['@tensorflow/*'], message: TFJS_FAISS[1] },
            { regex: '/webview/(?![^/]+/protocol$)', message: 'the extension uses only the webview protocol module (src/webview/*/protocol.ts)' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/webview/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'src/webview/ runs in the browser: no Node built-ins' })),
          patterns: [VSCODE, EXTENSION, CLI, TRAINER].map(([group, message]) => ({ group, message })),
        },
      ],
    },
  },
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-non-null-assertion': 'off' } },
  // The CommonJS build and launcher scripts.
  { files: ['webpack.config.js', 'bin/*.js'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  prettier,
);
