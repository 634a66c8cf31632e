import fs from 'node:fs';
import path from 'node:path';
import sharp from './sharp';
import { decodeAndResize } from './preprocess';

const JPEG = fs.readFileSync(path.join(__dirname, '../../test/fixtures/images/ISIC_0000150.jpg'));

describe('sharp as this server configures it', () => {
  test('libvips keeps no operation cache, so decodes of new bytes hold nothing after them', async () => {
    for (let i = 0; i < 3; i++)
      await decodeAndResize(Buffer.concat([JPEG, Buffer.from(`tail-${i}`)]), { width: 64, height: 64 });
    const stats = sharp.cache();
    expect(stats.items).toEqual({ current: 0, max: 0 });
    expect(stats.memory.max).toBe(0);
    expect(stats.memory.current).toBe(0);
  });
});
