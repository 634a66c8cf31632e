import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestJsonSchemaText } from './manifest';

describe('docs/manifest.schema.json', () => {
  it('is the JSON Schema generated from the zod manifest schema (regenerate with scripts/emit-manifest-schema.ts)', () => {
    const committed = readFileSync(join(__dirname, '../../../docs/manifest.schema.json'), 'utf8');
    expect(committed).toBe(manifestJsonSchemaText());
  });

  it('describes the contract fields', () => {
    const schema = JSON.parse(manifestJsonSchemaText());
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(
      expect.arrayContaining([
        'schemaVersion',
        'name',
        'version',
        'task',
        'modelFile',
        'files',
        'input',
        'outputs',
        'postprocess',
        'license',
        'provenance',
        'goldenCases',
      ]),
    );
    expect(schema.properties.input.properties.layout.enum).toEqual(['NCHW', 'NHWC']);
    expect(schema.additionalProperties).toBe(false);
  });
});
