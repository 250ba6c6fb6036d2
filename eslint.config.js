// ESLint flat config: typescript-eslint's recommended rules everywhere, plus the type-aware
// no-floating-promises on TypeScript files (server, tests, benchmarks, console). `npm run lint`.
import { defineConfig } from 'eslint/config'
import tseslint from 'typescript-eslint'

export default defineConfig(
  {
    ignores: ['dist/', 'data/', 'coverage/', 'test-results/', 'node_modules/', 'reference-data/', '.tmp/', 'scratch/'],
  },
  tseslint.configs.recommended,
  {
    rules: {
      // House convention: a leading underscore marks a binding kept on purpose (`const { secret: _s, ...rest } = x`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: {
        // Each file is checked with its nearest tsconfig: tsconfig.json (src, test, bench), web/tsconfig.json.
        projectService: {
          // Files no tsconfig.json includes (the vitest config, the console's tests) get web/tsconfig.test.json.
          allowDefaultProject: ['vitest.config.ts', 'web/src/*.test.ts', 'web/src/*/*.test.ts'],
          defaultProject: 'web/tsconfig.test.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself awaits (test/e2e).
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
    },
  },
)
