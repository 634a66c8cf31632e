import fs from 'node:fs';
import { printAppSchema, SCHEMA_FILE } from '../../src/schema/emit';

describe('schema.graphql', () => {
  it('is the schema the resolvers build (run `npm run schema:emit` after changing them)', async () => {
    const committed = fs.readFileSync(SCHEMA_FILE, 'utf8');
    expect(committed).toBe(await printAppSchema());
  });
});
