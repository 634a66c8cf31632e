import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packCommand, validateCommand } from '../../src/commands/models';
import { editManifest, makeClassifierPackage, tempDir } from '../fixtures/models/packages';

/** `dermagraph models pack|validate` on real packages: readable reports, failure on a refused package. */
let work: string;
beforeAll(async () => {
  work = await tempDir();
});
afterAll(() => rm(work, { recursive: true, force: true }));

it('pack fills in the sha256 values and writes an archive that validate accepts', async () => {
  const dir = await makeClassifierPackage(work);
  await editManifest(dir, (m) => (m.files = {}));
  const packed = await packCommand(dir, { out: join(work, 'tiny.tar.gz') });
  expect(packed.ok).toBe(true);
  expect(packed.text).toMatch(/^packed tiny-classifier@1\.0\.0: 5 files, \d+ bytes -> .*tiny\.tar\.gz/);
  expect(packed.text).toMatch(/[0-9a-f]{64} {2}model\.onnx/);
  expect(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')).files['model.onnx']).toMatch(/^[0-9a-f]{64}$/);

  const report = await validateCommand(join(work, 'tiny.tar.gz'));
  expect(report.ok).toBe(true);
  expect(report.text).toContain('ok  tiny-classifier@1.0.0 (classification) from tar.gz');
  expect(report.text).toMatch(/golden case 0 \(golden\/case0\.jpg\): pass/);
  expect(report.text).toMatch(/golden case 1 \(golden\/case1\.jpg\): pass/);
});

it('validate reports a fallback when asked for a GPU device on a machine without one', async () => {
  const report = await validateCommand(join(__dirname, '../../plugins/dg-gap-classifier'), { device: 'webgpu' });
  expect(report.ok).toBe(true);
  expect(report.text).toMatch(/device: requested webgpu, ran on cpu \(fell back: webgpu: /);
});

it('validate refuses a broken package naming the check and field; pack refuses an invalid manifest', async () => {
  const dir = await makeClassifierPackage(join(work, 'broken'));
  await writeFile(join(dir, 'model.onnx'), 'not a model');
  const report = await validateCommand(dir);
  expect(report.ok).toBe(false);
  expect(report.text).toMatch(/^refused \(BAD_USER_INPUT, check files\.sha256, field files\["model\.onnx"\]\)/);

  await editManifest(dir, (m) => (m.input.mean[2] = 'x'));
  const packed = await packCommand(dir, { out: join(work, 'broken.zip') });
  expect(packed.ok).toBe(false);
  expect(packed.text).toMatch(/check manifest\.schema, field input\.mean\[2\]/);
  expect(packed.text).toMatch(/input\.mean\[2\]: expected number/);
});
