// ESLint: TypeScript rules, plus the import boundaries of the layout (README, "Development").
// Formatting is Prettier's job (`npm run lint` runs both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';

/** Layers of src/, most specific pattern first (a file takes the first element it matches). */
const elements = [
  { type: 'shared', pattern: 'src/infra/errors.ts', mode: 'full' },
  { type: 'database', pattern: 'src/infra/database', mode: 'folder' },
  { type: 'infra', pattern: 'src/infra', mode: 'folder' },
  { type: 'schema-build', pattern: 'src/schema/{build,emit}.ts', mode: 'full' },
  { type: 'schema', pattern: 'src/schema', mode: 'folder' },
  { type: 'entities', pattern: 'src/entities', mode: 'folder' },
  { type: 'math', pattern: 'src/inference', mode: 'folder' },
  { type: 'module', pattern: 'src/modules/*', mode: 'folder', capture: ['module'] },
  { type: 'module', pattern: 'src/models-registry', mode: 'folder' },
  { type: 'resolvers', pattern: 'src/resolvers', mode: 'folder' },
  { type: 'app', pattern: 'src/app', mode: 'folder' },
  { type: 'entry', pattern: 'src/commands', mode: 'folder' },
  { type: 'entry', pattern: 'src/cli.ts', mode: 'full' },
];

/** What the composition root and the entry points build on: every layer below them. */
const BELOW_APP = ['shared', 'infra', 'database', 'schema', 'schema-build', 'entities', 'math', 'module', 'resolvers'];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'data/**',
      'assets/**',
      'plugins/**',
      'datasets/**',
      'training/**',
      // The example client's build output and graphql-codegen's generated types (its sources are linted).
      'examples/*/dist/**',
      'examples/*/src/gql/**',
      // The web console's build output and generated types.
      'web/dist/**',
      'web/src/gql/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // type-graphql and MikroORM read decorator metadata, which needs classes imported as values:
      // a type-only import there would silently change the metadata, so the rule stays off.
      '@typescript-eslint/consistent-type-imports': 'off',
      // Resolver and entity lists are typed `Function[]` by type-graphql itself.
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // prom-client's collect() and stream callbacks get their own `this`; the outer object is captured on purpose.
      '@typescript-eslint/no-this-alias': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': elements,
      'boundaries/include': ['src/**/*.ts'],
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      // Who may import whom. Infrastructure knows no feature; the math knows nothing but the shared errors.
      'boundaries/element-types': [
        'error',
        {
          default: 'disallow',
          rules: [
            { from: 'shared', allow: [] },
            { from: 'infra', allow: ['shared', 'infra'] },
            // The one place infrastructure meets the data model: the ORM maps the entities (behaviour-free) to tables.
            { from: 'database', allow: ['shared', 'infra', 'database', 'entities'] },
            { from: 'entities', allow: ['entities'] },
            { from: 'math', allow: ['shared', 'math'] },
            { from: 'schema', allow: ['shared', 'infra', 'database', 'schema', 'entities'] },
            // Building the schema is where the features' resolvers are assembled.
            { from: 'schema-build', allow: ['shared', 'infra', 'schema', 'schema-build', 'resolvers'] },
            { from: 'module', allow: ['shared', 'infra', 'database', 'schema', 'entities', 'math', 'module'] },
            { from: 'resolvers', allow: ['module', 'schema'] },
            { from: 'app', allow: [...BELOW_APP, 'app'] },
            { from: 'entry', allow: [...BELOW_APP, 'app', 'entry'] },
          ],
        },
      ],
      // A feature module is reached through its index.ts only (files of the same module import each other freely).
      'boundaries/entry-point': [
        'error',
        {
          default: 'allow',
          rules: [
            { target: ['module'], disallow: ['**'] },
            { target: ['module'], allow: ['index.ts'] },
          ],
        },
      ],
    },
  },
  {
    // sharp is configured once for the process (src/inference/sharp.ts); product code takes it from there.
    files: ['src/**/*.ts'],
    ignores: ['src/inference/sharp.ts', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'sharp', message: 'Import sharp from src/inference/sharp.ts, which configures it.' }] },
      ],
    },
  },
  {
    // The web console (web/): browser code, React hooks rules.
    files: ['web/**/*.{ts,tsx,mts}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: { ...globals.browser } },
    rules: { ...reactHooks.configs.recommended.rules },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
