// Flat config: strict type-aware rules everywhere, and a determinism fence around workflows/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { builtinModules } from 'node:module';

// The layers of DESIGN.md, bottom to top: an import may point down or sideways, never up.
const LAYERS = [
  [
    'src/json',
    'src/order',
    'src/sleep.ts',
    'src/log.ts',
    'src/net.ts',
    'src/child-process.ts',
    'src/config.ts',
    'src/typescript-loader.ts',
  ],
  ['src/spec', 'src/store', 'src/pagination', 'src/mapping', 'src/http'],
  ['src/ratelimit'],
  ['src/sync', 'src/webhooks', 'src/import'],
  ['activities'],
  ['src/temporal'],
  ['src/stack', 'src/testing'],
  ['src/cli'],
];
const layerZones = LAYERS.slice(0, -1).map((layer, i) => ({
  target: layer.map((p) => `./${p}`),
  from: LAYERS.slice(i + 1)
    .flat()
    .map((p) => `./${p}`),
  message: 'layers only point down (DESIGN.md): move the shared piece below both, or pass it in',
}));

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.syncwright/', 'test-output/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    // Resolves `./x.js` to `./x.ts` as TypeScript does: without it the import rules see no imports.
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
    },
  },
  {
    // Plain JS launchers and scripts are outside the TypeScript project.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly' },
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...builtinModules,
            ...builtinModules.map((m) => `node:${m}`),
            'pg',
            'kysely',
            'node-fetch',
            '@temporalio/client',
            '@temporalio/worker',
            '@temporalio/activity',
          ],
        },
      ],
    },
  },
  {
    // Migrations are frozen in time and typed against Kysely<any>, as kysely's docs recommend.
    files: ['migrations/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
