// graphql-codegen, client preset: reads the server's committed schema.graphql and every graphql(`...`) in src/,
// and writes src/gql/ (typed document nodes: each operation carries its result and variables types).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: process.env.SCHEMA ?? '../../schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // Node ESM (module: nodenext) needs the .js suffix on relative imports.
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
        // A scalar not listed here is typed `unknown` (the code must check it before use), never `any`.
        defaultScalarType: 'unknown',
        scalars: {
          Date: 'string',
          LocalDate: 'string',
          DateTime: 'string',
          JSONObject: 'Record<string, unknown>',
          Upload: 'File',
        },
      },
    },
  },
};

export default config;
