// graphql-codegen, client preset: reads the server's schema.graphql and every graphql(`...`) in web/src, and writes
// web/src/gql/ (typed documents: each operation carries its result and variables types). Generated, gitignored:
// `npm run build:web` (and `npm run codegen:web`) regenerate it.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: `${__dirname}/../schema.graphql`,
  documents: [`${__dirname}/src/**/*.{ts,tsx}`, `!${__dirname}/src/gql/**`],
  ignoreNoDocuments: true,
  generates: {
    [`${__dirname}/src/gql/`]: {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
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
