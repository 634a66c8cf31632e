/**
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import {
  editManifest,
  makeClassifierPackage,
  makeSegmenterPackage,
  tempDir,
} from '../../../test/fixtures/models/packages';
import { RegistryError } from '../errors';
import { packPackage, sealPackage, validatePackage, type PrepareOptions } from './package';
import { zipEntries, type ZipEntry } from './zip-writer';

let work: string; // packages are built here
let extractDir: string; // validatePackage extracts here; must be empty after every run

beforeEach(async () => {
  work = await tempDir();
  extractDir = join(work, 'extract');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Expects validation to refuse with `check`, and nothing extracted to remain. */
async function expectRefused(
  pathOrArchive: string,
  check: string,
  opts: { code?: string; field?: string | RegExp; message?: RegExp } & PrepareOptions = {},
): Promise<RegistryError> {
  let err: unknown;
  try {
    await validatePackage(pathOrArchive, { workDir: extractDir, ...opts });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RegistryError);
  const e = err as RegistryError;
  expect({ check: e.check, code: e.code }).toEqual({ check, code: opts.code ?? 'BAD_USER_INPUT' });
  expect(e.message.startsWith(`${check}: `)).toBe(true);
  if (opts.field instanceof RegExp) expect(e.field).toMatch(opts.field);
  else if (opts.field !== undefined) expect(e.field).toBe(opts.field);
  if (opts.message) expect(e.message).toMatch(opts.message);
  // Nothing of the refused package is left on disk.
  expect(existsSync(extractDir) ? await readdir(extractDir) : []).toEqual([]);
  return e;
}

/** The files of a package folder as zip entries, under `prefix`. */
async function entriesOf(dir: string, prefix = ''): Promise<ZipEntry[]> {
  const out: ZipEntry[] = [];
  for (const f of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!f.isFile()) continue;
    const full = join(f.parentPath, f.name);
    out.push({ name: prefix + full.slice(dir.length + 1), data: await readFile(full) });
  }
  return out;
}

async function writeZip(name: string, entries: ZipEntry[]): Promise<string> {
  const file = join(work, name);
  await writeFile(file, zipEntries(entries));
  return file;
}

describe('validatePackage: good packages', () => {
  it('accepts a classifier folder: checks pass and the golden cases run on cpu', async () => {
    const dir = await makeClassifierPackage(work);
    const report = await validatePackage(dir);
    expect(report).toMatchObject({
      name: 'tiny-classifier',
      version: '1.0.0',
      task: 'classification',
      source: 'directory',
      files: 5,
    });
    expect(report.placement).toMatchObject({ requested: 'cpu', actual: 'cpu', fallbackReason: null });
    expect(report.golden.map((g) => g.ok)).toEqual([true, true]);
  });

  it('accepts a segmentation package (golden mask compared by IoU)', async () => {
    const report = await validatePackage(await makeSegmenterPackage(work));
    expect(report.task).toBe('segmentation');
    expect(report.golden[0].iou).toBeGreaterThanOrEqual(0.98);
  });

  it('packs to .zip and .tar.gz, filling sha256 values, and both validate', async () => {
    const dir = await makeClassifierPackage(work);
    await editManifest(dir, (m) => (m.files = {}));
    for (const out of ['pkg.zip', 'pkg.tar.gz']) {
      const packed = await packPackage(dir, join(work, out));
      expect(Object.keys(packed.manifest.files).sort()).toEqual([
        'MODEL_CARD.md',
        'golden/case0.jpg',
        'golden/case1.jpg',
        'model.onnx',
      ]);
      if (out.endsWith('.zip'))
        expect(execFileSync('unzip', ['-t', packed.outFile], { encoding: 'utf8' })).toContain('No errors detected');
      const report = await validatePackage(packed.outFile, { workDir: extractDir });
      expect(report.source).toBe(out.endsWith('.zip') ? 'zip' : 'tar.gz');
      expect(await readdir(extractDir)).toEqual([]);
    }
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.files['model.onnx']).toMatch(/^[a-f0-9]{64}$/);
  });

  it('accepts an archive of one top folder', async () => {
    const dir = await makeClassifierPackage(work);
    const zip = await writeZip('top.zip', [{ name: 'tiny/' }, ...(await entriesOf(dir, 'tiny/'))]);
    expect((await validatePackage(zip, { workDir: extractDir })).source).toBe('zip');
  });

  it('refuses to pack to an unknown archive type', async () => {
    await expect(packPackage(await makeClassifierPackage(work), join(work, 'x.rar'))).rejects.toThrow(
      /use .zip, .tar.gz or .tgz/,
    );
  });
});

describe('validatePackage: hostile packages are refused with their reason and leave nothing behind', () => {
  it('zip-slip path', async () => {
    const dir = await makeClassifierPackage(work);
    const zip = await writeZip('slip.zip', [
      ...(await entriesOf(dir)),
      { name: '../../evil.txt', data: Buffer.from('pwned') },
    ]);
    await expectRefused(zip, 'archive.path', { message: /evil\.txt/ });
    expect(existsSync(join(dirname(extractDir), 'evil.txt'))).toBe(false);
    expect(existsSync(join(dirname(work), 'evil.txt'))).toBe(false);
  });

  it('zip-slip path in a tar.gz', async () => {
    const header = new tar.Header({ path: '../evil.txt', size: 5, type: 'File', mode: 0o644, mtime: new Date(0) });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    const data = Buffer.alloc(512);
    data.write('pwned');
    const file = join(work, 'slip.tar.gz');
    await writeFile(file, gzipSync(Buffer.concat([block, data, Buffer.alloc(1024)])));
    await expectRefused(file, 'archive.path', { field: '../evil.txt' });
  });

  it('absolute path', async () => {
    const zip = await writeZip('abs.zip', [{ name: '/tmp/evil.txt', data: Buffer.from('x') }]);
    await expectRefused(zip, 'archive.path');
  });

  it('symlink in a zip', async () => {
    const dir = await makeClassifierPackage(work);
    const zip = await writeZip('link.zip', [
      ...(await entriesOf(dir)),
      { name: 'passwd', data: Buffer.from('/etc/passwd'), mode: 0o120777 },
    ]);
    await expectRefused(zip, 'archive.link', { field: 'passwd' });
  });

  it('symlink and hard link in a tar.gz', async () => {
    for (const type of ['SymbolicLink', 'Link'] as const) {
      const header = new tar.Header({
        path: 'model.onnx',
        linkpath: '/etc/passwd',
        size: 0,
        type,
        mode: 0o777,
        mtime: new Date(0),
      });
      const block = Buffer.alloc(512);
      header.encode(block, 0);
      const file = join(work, `${type}.tar.gz`);
      await writeFile(file, gzipSync(Buffer.concat([block, Buffer.alloc(1024)])));
      await expectRefused(file, 'archive.link', { field: 'model.onnx' });
    }
  });

  it('10 GB declared size (zip64 central directory), refused before extracting', async () => {
    const zip = await writeZip('huge.zip', [
      { name: 'manifest.json', data: Buffer.from('{}') },
      { name: 'model.onnx', data: Buffer.from('tiny'), declaredSize: 10 * 1024 ** 3 },
    ]);
    await expectRefused(zip, 'archive.size', {
      code: 'PAYLOAD_TOO_LARGE',
      field: 'model.onnx',
      message: /declares 10737418240 bytes/,
    });
  });

  it('10 GB declared size in a tar header', async () => {
    const header = new tar.Header({
      path: 'model.onnx',
      size: 10 * 1024 ** 3,
      type: 'File',
      mode: 0o644,
      mtime: new Date(0),
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    const file = join(work, 'huge.tar.gz');
    await writeFile(file, gzipSync(Buffer.concat([block, Buffer.alloc(1024)])));
    await expectRefused(file, 'archive.size', { code: 'PAYLOAD_TOO_LARGE' });
  });

  it('declared sizes over the total limit, and too many entries', async () => {
    const dir = await makeClassifierPackage(work);
    const zip = await writeZip('ok.zip', await entriesOf(dir));
    await expectRefused(zip, 'archive.size', {
      code: 'PAYLOAD_TOO_LARGE',
      message: /in all, over the 2000-byte limit/,
      limits: { maxTotalBytes: 2000, maxFileBytes: 10_000, maxEntries: 100 },
    });
    await expectRefused(zip, 'archive.count', {
      code: 'PAYLOAD_TOO_LARGE',
      limits: { maxTotalBytes: 1e9, maxFileBytes: 1e9, maxEntries: 3 },
    });
  });

  it('an entry that inflates to more than it declares (actual bytes are counted)', async () => {
    const zip = await writeZip('liar.zip', [
      { name: 'manifest.json', data: Buffer.alloc(50_000, 32), declaredSize: 10 },
    ]);
    await expectRefused(zip, 'archive.size', {
      code: 'PAYLOAD_TOO_LARGE',
      message: /holds more bytes than the 10 it declares/,
    });
  });

  it('a tar entry declaring more than the limit for one file', async () => {
    const dir = await makeClassifierPackage(work);
    const packed = await packPackage(dir, join(work, 'p.tar.gz'));
    await expectRefused(packed.outFile, 'archive.size', {
      code: 'PAYLOAD_TOO_LARGE',
      message: /declares \d+ bytes, over the 1000-byte limit for one file/,
      limits: { maxTotalBytes: 1e9, maxFileBytes: 1000, maxEntries: 100 },
    });
  });

  it('missing manifest', async () => {
    const dir = await makeClassifierPackage(work);
    const zip = await writeZip(
      'nomanifest.zip',
      (await entriesOf(dir)).filter((e) => e.name !== 'manifest.json'),
    );
    await expectRefused(zip, 'package.manifest', { field: 'manifest.json', message: /no manifest\.json/ });
  });

  it('two manifests', async () => {
    const dir = await makeClassifierPackage(work);
    const zip = await writeZip('two.zip', [
      ...(await entriesOf(dir, 'a/')),
      { name: 'b/manifest.json', data: Buffer.from('{}') },
    ]);
    await expectRefused(zip, 'package.manifest', { message: /more than one manifest\.json/ });
  });

  it('an invalid manifest names the field', async () => {
    const dir = await makeClassifierPackage(work);
    await editManifest(dir, (m) => (m.input.mean[2] = 'x'));
    const e = await expectRefused(dir, 'manifest.schema', {
      field: 'input.mean[2]',
      message: /input\.mean\[2\]: expected number/,
    });
    expect(e.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      check: 'manifest.schema',
      field: 'input.mean[2]',
      issues: [{ path: 'input.mean[2]', message: 'expected number, received string' }],
    });
  });

  it('manifest naming an output the model lacks', async () => {
    const dir = await makeClassifierPackage(work, { edit: (m) => (m.outputs = [{ name: 'probs', role: 'logits' }]) });
    await expectRefused(dir, 'onnx.io', {
      field: 'outputs[0].name',
      message: /the model has no output "probs" \(it has: logits\)/,
    });
  });

  it('manifest whose input size the model does not take', async () => {
    const dir = await makeClassifierPackage(work, { edit: (m) => (m.input.width = 64) });
    await expectRefused(dir, 'onnx.io', { field: 'input', message: /does not fit NCHW \[N, 3, 32, 64\]/ });
  });

  it('wrong sha256', async () => {
    const dir = await makeClassifierPackage(work);
    await editManifest(dir, (m) => (m.files['golden/case0.jpg'] = '0'.repeat(64)));
    await expectRefused(dir, 'files.sha256', { field: 'files["golden/case0.jpg"]' });
  });

  it('a file not listed in the manifest', async () => {
    const dir = await makeClassifierPackage(work);
    await writeFile(join(dir, 'extra.bin'), 'x');
    await expectRefused(dir, 'files.unlisted', { field: 'extra.bin' });
  });

  it('a listed file that is missing', async () => {
    const dir = await makeClassifierPackage(work);
    await rm(join(dir, 'MODEL_CARD.md'));
    await expectRefused(dir, 'files.missing', { field: 'files["MODEL_CARD.md"]' });
  });

  it('a non-ONNX file named model.onnx', async () => {
    const dir = await makeClassifierPackage(work);
    await writeFile(join(dir, 'model.onnx'), 'this is not a model\n');
    await sealPackage(dir);
    await expectRefused(dir, 'onnx.load', {
      field: 'modelFile',
      message: /^onnx\.load: Load model from model\.onnx failed: ?Protobuf parsing failed/,
    });
  });

  it('a golden case that fails', async () => {
    const dir = await makeClassifierPackage(work, {
      edit: (m) =>
        ((m.goldenCases[1] as { expected: { probabilities: number[] } }).expected.probabilities = [0.5, 0.5]),
    });
    await expectRefused(dir, 'golden', {
      field: 'goldenCases[1]',
      message: /case 1 \(golden\/case1\.jpg\) fails on cpu: got \[0\.\d{4}, 0\.\d{4}\], expected \[0\.5000, 0\.5000\]/,
    });
  });

  it('a version that already exists', async () => {
    const dir = await makeClassifierPackage(work);
    const zip = await writeZip('dup.zip', await entriesOf(dir));
    await expectRefused(zip, 'version.exists', {
      code: 'CONFLICT',
      exists: (n, v) => n === 'tiny-classifier' && v === '1.0.0',
    });
  });

  it('a file that is no archive at all', async () => {
    const file = join(work, 'x.rar');
    await writeFile(file, 'Rar!\x1a\x07\x00 not really');
    await expectRefused(file, 'archive.type', { code: 'UNSUPPORTED_MEDIA_TYPE' });
  });
});

describe('validatePackage: archives that clash with themselves', () => {
  it('a duplicate entry or a file where a folder must go is a corrupt archive, not a crash', async () => {
    const dup = await writeZip('dup-entry.zip', [
      { name: 'a.txt', data: Buffer.from('1') },
      { name: 'a.txt', data: Buffer.from('2') },
    ]);
    await expectRefused(dup, 'archive.corrupt', { message: /EEXIST/ });
    const clash = await writeZip('clash.zip', [
      { name: 'a', data: Buffer.from('1') },
      { name: 'a/b', data: Buffer.from('2') },
    ]);
    const e = await expectRefused(clash, 'archive.corrupt');
    expect(e.message).not.toMatch(/dg-package-/); // no server paths
  });
});
