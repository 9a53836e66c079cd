// Lint: typescript-eslint with type information (floating promises, unused
// code, unsafe any), run by `npm test` through `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The feature modules, as a lower layer imports them. */
const FEATURES = [
  '../setup*',
  '../tuning/*',
  '../aggregates/*',
  '../migrate/*',
  '../demo/*',
  '../doctor/*',
  '../status*',
  '../jobs.js',
  '../chunks.js',
];

/** Files matching `files` may not import paths matching `patterns` (except core's own './x.js'). */
function layer(files, patterns, ignores = []) {
  return [
    {
      files: Array.isArray(files) ? files : [files],
      ignores,
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [{ group: patterns, message: 'A layer imports only from the layers below it (README, Layout).' }],
          },
        ],
      },
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.homepot-ts/', 'bench/', 'bin/', '*.config.*'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Issue 10: a newcomer reads any file in one sitting.
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 80 }],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "TSAsExpression[expression.type='TSAsExpression'][expression.typeAnnotation.type='TSUnknownKeyword']",
          message: 'No `as unknown as`: type rows with query<T>() / queryOne<T>() from src/db/sql.ts.',
        },
      ],
    },
  },
  // The layers: cli -> features -> steps -> db -> core. A layer never imports one above it.
  ...layer('src/core/**/*.ts', ['../*']),
  ...layer('src/db/**/*.ts', ['../cli/*', '../steps/*', ...FEATURES]),
  ...layer('src/steps/**/*.ts', ['../cli/*', ...FEATURES]),
  ...layer(
    ['src/*.ts', 'src/{setup,tuning,aggregates,migrate,demo,doctor}/**/*.ts'],
    ['../cli/*', './cli/*', '../../cli/*'],
    ['src/index.ts'],
  ),
  // Plain JavaScript helpers the tests start as child processes (test/support/cli-batch.mjs): no types to check.
  { files: ['test/**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['test/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Tests read the CLI's --json output and rows of ad-hoc queries: `any` is
      // what JSON.parse and an untyped query give, and each test asserts the shape.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
