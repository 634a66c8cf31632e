import fs from 'node:fs/promises';
import path from 'node:path';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { projectRoot } from '../infra/paths';
import { buildAppSchema } from './build';

export const SCHEMA_FILE = path.join(projectRoot, 'schema.graphql');

/** The SDL clients code against: sorted, so a diff shows real changes only. */
export async function printAppSchema(): Promise<string> {
  const schema = await buildAppSchema();
  return `# Generated from the resolvers by \`npm run schema:emit\`; a test fails when it is stale.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
}

export async function emitSchema(write: boolean): Promise<string> {
  const sdl = await printAppSchema();
  if (write) await fs.writeFile(SCHEMA_FILE, sdl);
  return sdl;
}
