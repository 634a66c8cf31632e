import { createWriteStream } from 'node:fs';
import readline from 'node:readline';
import { zipStream, type ZipSourceEntry } from '../src/modules/reports/zip/zip-stream';
import { patientEntryName } from '../src/modules/reports/zip/entry-names';

/**
 * The raw floor of a masks ZIP, run in a process of its own by the reports bench (which samples its
 * RSS): `node dist/bench/reports-floor.js <mask file> <count> <out.zip>` prints `ready`, waits for a
 * line on stdin, then zips the same file `count` times straight from disk with zipStream (what
 * MASKS_ZIP writes, without the database, the job or the server) and prints `{ bytes, entries, liveBytesPerEntry }`.
 * Run with --expose-gc, it also measures what stays live per entry: the heap after a full GC a tenth of the
 * way and at the last entry (the ZIP's central directory and the manifest rows grow with the entries). It
 * exits when its stdin closes.
 */
async function main() {
  const [mask, count, out] = process.argv.slice(2);
  const lines = readline.createInterface({ input: process.stdin });
  const closed = new Promise((resolve) => lines.once('close', resolve));
  process.stdout.write('ready\n');
  await new Promise((resolve) => lines.once('line', resolve));
  const gc = (globalThis as { gc?: () => void }).gc;
  const live = () => (gc?.(), process.memoryUsage().heapUsed);
  let first = 0;
  let last = 0;
  const n = Number(count);
  async function* entries(): AsyncGenerator<ZipSourceEntry> {
    for (let i = 0; i < n; i++) {
      // From a tenth of the way: the first entries also pay for archiver's and zlib's one-time set-up.
      if (i === Math.floor(n / 10)) first = live();
      if (i === n - 1) last = live();
      yield { name: patientEntryName('BENCH', `image-${String(i).padStart(5, '0')}`), source: mask };
    }
  }
  const result = await zipStream(entries(), createWriteStream(out));
  const liveBytesPerEntry = gc && n >= 10 ? (last - first) / (n - 1 - Math.floor(n / 10)) : null;
  process.stdout.write(
    `${JSON.stringify({ bytes: result.bytes, entries: result.entries.length, liveBytesPerEntry })}\n`,
  );
  // Alive until the bench has taken its last RSS sample.
  await closed;
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
