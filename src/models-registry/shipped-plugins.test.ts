/**
 */
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../test/fixtures/models/packages';
import { validatePackage } from './package/package';
import { ModelRegistry } from './registry';

const PLUGINS = join(__dirname, '../../plugins');
const shipped = readdirSync(PLUGINS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

describe('the shipped plugins', () => {
  it('are there', () => {
    expect(shipped.length).toBeGreaterThan(0);
  });

  it.each(shipped)('%s passes every package check, golden cases included', async (name) => {
    const report = await validatePackage(join(PLUGINS, name));
    expect(report.name).toBe(name);
    expect(report.golden.every((g) => g.ok)).toBe(true);
  });

  it('load at registry start, one active version each', async () => {
    const work = await tempDir();
    const registry = new ModelRegistry({ packagesDir: join(work, 'store') });
    try {
      const { loaded, failed } = await registry.start([PLUGINS]);
      expect(failed).toEqual([]);
      expect(loaded.map((v) => v.name).sort()).toEqual([...shipped].sort());
      for (const m of registry.list()) expect(m.activeVersion).not.toBeNull();
    } finally {
      await registry.close();
      await rm(work, { recursive: true, force: true });
    }
  });
});
