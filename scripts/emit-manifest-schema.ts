/**
 * Writes docs/manifest.schema.json (or the path given) from the zod schema in
 * src/models-registry/package/manifest.ts. Run from the repository root:
 *   npm run build && node dist/scripts/emit-manifest-schema.js
 * src/models-registry/package/manifest-schema.test.ts fails when the committed file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { manifestJsonSchemaText } from '../src/models-registry/package/manifest';

const out = resolve(process.argv[2] ?? 'docs/manifest.schema.json');
writeFileSync(out, manifestJsonSchemaText());
console.log(`wrote ${out}`);
