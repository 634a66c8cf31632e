import * as yauzl from 'yauzl';
import { zipEntries } from './zip-writer';

function readZip(buf: Buffer): Promise<Array<{ name: string; mode: number; size: number; data: Buffer }>> {
  return new Promise((ok, fail) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err) return fail(err);
      const out: Array<{ name: string; mode: number; size: number; data: Buffer }> = [];
      zip!.on('entry', (e: yauzl.Entry) => {
        zip!.openReadStream(e, (err2, s) => {
          if (err2) return fail(err2);
          const chunks: Buffer[] = [];
          s!.on('data', (c: Buffer) => chunks.push(c));
          s!.on('end', () => {
            out.push({
              name: e.fileName,
              mode: e.externalFileAttributes >>> 16,
              size: e.uncompressedSize,
              data: Buffer.concat(chunks),
            });
            zip!.readEntry();
          });
        });
      });
      zip!.on('end', () => ok(out));
      zip!.on('error', fail);
      zip!.readEntry();
    });
  });
}

describe('zipEntries', () => {
  it('writes files, folders and modes that a zip reader reads back byte for byte (CRC checked)', async () => {
    const text = Buffer.from('hello '.repeat(100));
    const entries = await readZip(
      zipEntries([
        { name: 'pkg/' },
        { name: 'pkg/a.txt', data: text },
        { name: 'pkg/empty', data: Buffer.alloc(0) },
        { name: 'pkg/link', data: Buffer.from('a.txt'), mode: 0o120777 },
      ]),
    );
    expect(entries.map((e) => [e.name, e.mode.toString(8), e.size])).toEqual([
      ['pkg/', '40755', 0],
      ['pkg/a.txt', '100644', 600],
      ['pkg/empty', '100644', 0],
      ['pkg/link', '120777', 5],
    ]);
    expect(entries[1].data.equals(text)).toBe(true);
  });

  it('declares a size over 4 GiB through a ZIP64 extra field', async () => {
    const buf = zipEntries([{ name: 'big', data: Buffer.from('x'), declaredSize: 10 * 1024 ** 3 }]);
    const size = await new Promise<number>((ok, fail) =>
      yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
        if (err) return fail(err);
        zip!.on('entry', (e: yauzl.Entry) => ok(e.uncompressedSize));
        zip!.readEntry();
      }),
    );
    expect(size).toBe(10 * 1024 ** 3);
  });
});
