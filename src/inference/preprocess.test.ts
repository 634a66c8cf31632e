import { batchShape, rgbToTensor, type InputSpec } from './preprocess';

const spec = (over: Partial<InputSpec>): InputSpec => ({
  layout: 'NCHW',
  width: 2,
  height: 1,
  colorOrder: 'RGB',
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  ...over,
});

describe('rgbToTensor', () => {
  // Two pixels: (0, 128, 255) and (10, 20, 30).
  const rgb = Uint8Array.from([0, 128, 255, 10, 20, 30]);
  const f = (v: number, c: number, s: InputSpec) => Math.fround((v * s.scale - s.mean[c]) / s.std[c]);

  it('NCHW / RGB: one plane per channel, (v * scale - mean) / std', () => {
    const s = spec({});
    expect(Array.from(rgbToTensor(rgb, s))).toEqual([
      f(0, 0, s),
      f(10, 0, s),
      f(128, 1, s),
      f(20, 1, s),
      f(255, 2, s),
      f(30, 2, s),
    ]);
  });

  it('NHWC / BGR: interleaved, channels reversed, mean and std in the tensor order', () => {
    const s = spec({ layout: 'NHWC', colorOrder: 'BGR', scale: 1, mean: [1, 2, 3], std: [2, 4, 8] });
    // Tensor channel 0 is blue.
    expect(Array.from(rgbToTensor(rgb, s))).toEqual([
      (255 - 1) / 2,
      (128 - 2) / 4,
      (0 - 3) / 8,
      (30 - 1) / 2,
      (20 - 2) / 4,
      (10 - 3) / 8,
    ]);
  });

  it('NCHW / BGR: the blue plane first, each channel through its own mean and std', () => {
    const s = spec({ colorOrder: 'BGR', scale: 1, mean: [1, 2, 3], std: [2, 4, 8] });
    expect(Array.from(rgbToTensor(rgb, s))).toEqual([
      (255 - 1) / 2,
      (30 - 1) / 2,
      (128 - 2) / 4,
      (20 - 2) / 4,
      -3 / 8,
      7 / 8,
    ]);
    // The same spec object again (its tables are kept): the same answer.
    expect(Array.from(rgbToTensor(rgb, s))).toEqual(Array.from(rgbToTensor(rgb, { ...s })));
  });

  it('agrees exactly with the formula on every byte value', () => {
    const s = spec({ width: 256, height: 1 });
    const bytes = Uint8Array.from({ length: 256 * 3 }, (_, i) => (i * 97 + 13) % 256);
    const out = rgbToTensor(bytes, s);
    for (let p = 0; p < 256; p++) for (let c = 0; c < 3; c++) expect(out[c * 256 + p]).toBe(f(bytes[p * 3 + c], c, s));
  });

  it('refuses bytes of the wrong size', () => {
    expect(() => rgbToTensor(new Uint8Array(5), spec({}))).toThrow(/expected 6 bytes/);
  });

  it('batchShape follows the layout', () => {
    expect(batchShape(4, spec({}))).toEqual([4, 3, 1, 2]);
    expect(batchShape(4, spec({ layout: 'NHWC' }))).toEqual([4, 1, 2, 3]);
  });
});
