import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { patientEntryName, safePath, safeSegment, UniqueNames } from './entry-names';
import { zipStream, type ZipSourceEntry } from './zip-stream';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dg-zip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function writeZip(name: string, entries: AsyncIterable<ZipSourceEntry> | Iterable<ZipSourceEntry>) {
  const file = join(dir, name);
  const result = await zipStream(entries, createWriteStream(file));
  return { file, result };
}

function unzipTest(file: string): string {
  return execFileSync('unzip', ['-t', file], { encoding: 'utf8' });
}

function listNames(file: string): string[] {
  return execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

function entryText(file: string, name: string): Buffer {
  // unzip treats names as wildcard patterns; escaping keeps them literal.
  return execFileSync('unzip', ['-p', file, name.replace(/[[\]*?\\]/g, '\\$&')], { maxBuffer: 1 << 26 });
}

function manifest(file: string): Record<string, string>[] {
  return parse(entryText(file, 'manifest.csv'), { columns: true }) as Record<string, string>[];
}

describe('entry names', () => {
  it('cleans hostile segments and paths', () => {
    expect(safeSegment('..')).toBe('_');
    expect(safeSegment('a/b\\c')).toBe('a_b_c');
    expect(safeSegment('CON')).toBe('_CON');
    expect(safeSegment('nul.png')).toBe('_nul.png');
    expect(safeSegment('x\u0000y\r\n')).toBe('xy');
    expect(safeSegment('name. ')).toBe('name');
    expect(safePath('/etc/passwd')).toBe('etc/passwd');
    expect(safePath('../../x/./../y')).toBe('x/y');
    expect(safePath('C:\\Windows\\system32')).toBe('C_/Windows/system32');
    expect(safePath('')).toBe('_');
    expect(patientEntryName('../P-1', 'img/7')).toBe('.._P-1/img_7_mask.png');
  });

  it('de-duplicates clashes, case-insensitively, before the extension', () => {
    const names = new UniqueNames(['manifest.csv']);
    expect(names.take('a/x.png')).toBe('a/x.png');
    expect(names.take('a/X.png')).toBe('a/X_2.png');
    expect(names.take('a/../a/x.png')).toBe('a/a/x.png');
    expect(names.take('a/x.png')).toBe('a/x_3.png');
    expect(names.take('MANIFEST.csv')).toBe('MANIFEST_2.csv');
    expect(names.take('.hidden')).toBe('.hidden');
    expect(names.take('.hidden')).toBe('.hidden_2');
  });
});

describe('zipStream', () => {
  it('writes streams, buffers and files with a manifest that matches the entries', async () => {
    const onDisk = join(dir, 'on-disk.bin');
    const diskData = Buffer.alloc(300_000, 7);
    await writeFile(onDisk, diskData);
    const unicode = 'Zoë, "quoted", =1+1\nline two ✓';
    const { file, result } = await writeZip('mixed.zip', [
      { name: 'P-1/img-1_mask.png', source: Buffer.from('mask one') },
      { name: 'P-1/img-2_mask.png', source: Readable.from([Buffer.from('mask '), Buffer.from('two')]) },
      { name: 'P-2/ünïcødé.txt', source: Buffer.from(unicode) },
      { name: 'P-2/big.bin', source: onDisk },
      { name: 'P-2/empty.txt', source: Buffer.alloc(0) },
    ]);
    expect(unzipTest(file)).toContain('No errors detected');
    expect(listNames(file)).toEqual([
      'P-1/img-1_mask.png',
      'P-1/img-2_mask.png',
      'P-2/ünïcødé.txt',
      'P-2/big.bin',
      'P-2/empty.txt',
      'manifest.csv',
    ]);
    const rows = manifest(file);
    expect(rows).toEqual(
      result.entries.map((e) => ({
        name: e.name,
        requested_name: e.requested,
        bytes: String(e.bytes),
        sha256: e.sha256,
      })),
    );
    for (const row of rows) {
      const body = entryText(file, row.name);
      expect(body.length).toBe(Number(row.bytes));
      expect(sha(body)).toBe(row.sha256);
    }
    expect(entryText(file, 'P-2/ünïcødé.txt').toString('utf8')).toBe(unicode);
    expect(entryText(file, 'P-2/big.bin').equals(diskData)).toBe(true);
    expect(result.bytes).toBeGreaterThan(0);
  });

  it('keeps hostile names inside the archive and unique', async () => {
    const hostile = [
      '../../etc/passwd',
      '/abs/olute.txt',
      'C:\\win\\evil.txt',
      'a/../../b.txt',
      '..',
      'ctl\u0000\u001b[31m.txt',
      'CON',
      'manifest.csv',
      'dup.txt',
      'DUP.txt',
      'dup.txt',
    ];
    const { file } = await writeZip(
      'hostile.zip',
      hostile.map((name) => ({ name, source: Buffer.from(name) })),
    );
    expect(unzipTest(file)).toContain('No errors detected');
    const names = listNames(file);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    for (const n of names) {
      expect(n.startsWith('/')).toBe(false);
      expect(n.split('/')).not.toContain('..');
      // eslint-disable-next-line no-control-regex
      expect(n).not.toMatch(/[\\\u0000-\u001f]/);
    }
    expect(names).toContain('etc/passwd');
    expect(names).toContain('manifest.csv');
    const rows = manifest(file);
    expect(rows.map((r) => r.requested_name)).toEqual(hostile);
    expect(rows.map((r) => r.name)).toEqual(names.slice(0, -1));
    // Extracting for real writes nothing outside the target folder.
    const sandbox = await mkdtemp(join(dir, 'sandbox-'));
    const target = join(sandbox, 'extract-here');
    execFileSync('unzip', ['-q', '-o', file, '-d', target]);
    const listed = execFileSync('find', [sandbox, '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(listed).toHaveLength(names.length);
    for (const f of listed) expect(f.startsWith(`${target}/`)).toBe(true);
  });

  it('streams 2 000 entries from a lazy source, one open at a time', async () => {
    let open = 0;
    let maxOpen = 0;
    let produced = 0;
    async function* source(): AsyncGenerator<ZipSourceEntry> {
      for (let i = 0; i < 2000; i++) {
        open++;
        produced++;
        maxOpen = Math.max(maxOpen, open);
        const body = Readable.from([Buffer.from(`entry ${i} `.repeat(20))]);
        body.on('end', () => open--);
        yield { name: patientEntryName(`P-${i % 40}`, `img-${i}`), source: body };
      }
    }
    const { file, result } = await writeZip('many.zip', source());
    expect(produced).toBe(2000);
    expect(maxOpen).toBeLessThanOrEqual(2);
    expect(unzipTest(file)).toContain('No errors detected');
    const names = listNames(file);
    expect(names).toHaveLength(2001);
    const rows = manifest(file);
    expect(rows).toHaveLength(2000);
    expect(rows.map((r) => r.name)).toEqual(names.slice(0, -1));
    expect(rows[1999]).toMatchObject({ name: 'P-39/img-1999_mask.png', bytes: String(result.entries[1999].bytes) });
    expect(sha(entryText(file, 'P-39/img-1999_mask.png'))).toBe(rows[1999].sha256);
  });

  it('fails (and closes the output) when a source fails', async () => {
    const file = join(dir, 'broken.zip');
    const out = createWriteStream(file);
    const bad = new Readable({
      read() {
        this.destroy(new Error('disk gone'));
      },
    });
    await expect(
      zipStream(
        [
          { name: 'ok.txt', source: Buffer.from('ok') },
          { name: 'bad.txt', source: bad },
        ],
        out,
      ),
    ).rejects.toThrow('disk gone');
    expect(out.destroyed).toBe(true);
  });
});
