import 'reflect-metadata';
import { benches } from './index';

/**
 * `npm run bench [-- name ...]`: runs the named benches (all when none is named), printing a table
 * each and writing bench/results/<name>.json. Benches measure; they never pass or fail.
 */
async function main() {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in benches));
  if (unknown.length) {
    process.stderr.write(`unknown bench: ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}\n`);
    process.exit(2);
  }
  for (const name of wanted.length ? wanted : Object.keys(benches)) {
    process.stderr.write(`running bench ${name}...\n`);
    await benches[name]();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
