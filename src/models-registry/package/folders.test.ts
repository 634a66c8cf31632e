import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../../test/fixtures/models/packages';
import { findPackageFolders, folderSignature } from './folders';

describe('discovery', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function pkg(...parts: string[]): Promise<string> {
    const p = join(dir, ...parts);
    await mkdir(p, { recursive: true });
    await writeFile(join(p, 'manifest.json'), '{}');
    return p;
  }

  it('finds package folders one or two levels down, skipping dot-folders and deeper ones', async () => {
    const a = await pkg('plugin-a');
    const b1 = await pkg('model-b', '1.0.0');
    const b2 = await pkg('model-b', '2.0.0');
    await pkg('.incoming', 'x');
    await pkg('deep', 'er', 'still');
    expect(await findPackageFolders(dir)).toEqual([b1, b2, a]);
    expect(await findPackageFolders(a)).toEqual([a]);
    expect(await findPackageFolders(join(dir, 'missing'))).toEqual([]);
  });

  it('a folder signature changes when a file changes', async () => {
    const a = await pkg('p');
    const before = await folderSignature(a);
    expect(await folderSignature(a)).toBe(before);
    await writeFile(join(a, 'model.onnx'), 'x');
    expect(await folderSignature(a)).not.toBe(before);
  });
});
