import sharp from 'sharp';
import {
  camToImage,
  featureMapAt,
  mapToImage,
  normaliseUnit,
  resizeBilinear,
  visibleRegion,
  weightedChannelSum,
} from './cam-map';

describe('resizeBilinear', () => {
  it('matches torch interpolate(bilinear, align_corners=False) on 2x3 -> 5x7', () => {
    // /usr/bin/python3: F.interpolate(x[None, None], size=(5, 7), mode='bilinear', align_corners=False)
    // with x = [[1, 2, 4], [8, 16, 32]] (torch 1.13, float32)
    const torch = [
      1.0, 1.1428571939, 1.5714285374, 2.0, 2.8571429253, 3.7142858505, 4.0, 1.7000000477, 1.9428572655, 2.6714286804,
      3.4000000954, 4.8571429253, 6.314286232, 6.8000001907, 4.5, 5.1428570747, 7.0714287758, 9.0, 12.8571434021,
      16.7142848969, 18.0, 7.3000001907, 8.3428573608, 11.4714288712, 14.6000013351, 20.8571434021, 27.1142864227,
      29.2000007629, 8.0, 9.1428575516, 12.571428299, 16.0, 22.8571434021, 29.7142868042, 32.0,
    ];
    const out = resizeBilinear([1, 2, 4, 8, 16, 32], 3, 2, 7, 5);
    torch.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
  });
  it('is the identity at the same size', () => {
    expect(Array.from(resizeBilinear([1, 2, 3, 4], 2, 2, 2, 2))).toEqual([1, 2, 3, 4]);
  });
  it('shrinks too: each output pixel between the two source pixels around its centre', () => {
    // Rows 0..3 to 2: centres at source 0.5 and 2.5; columns 4 to 2 the same way.
    expect(Array.from(resizeBilinear([0, 1, 2, 3], 1, 4, 1, 2))).toEqual([0.5, 2.5]);
    const grid = [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33];
    expect(Array.from(resizeBilinear(grid, 4, 4, 2, 2))).toEqual([5.5, 7.5, 25.5, 27.5]);
  });
});

describe('normaliseUnit / camToImage', () => {
  it('scales to [0, 1]', () => {
    expect(Array.from(normaliseUnit([2, 4, 6]))).toEqual([0, 0.5, 1]);
  });
  it('keeps an all-zero (or flat) map at zero', () => {
    expect(Array.from(normaliseUnit([0, 0, 0]))).toEqual([0, 0, 0]);
    expect(Array.from(camToImage([3, 3, 3, 3], 2, 2, 4, 4))).toEqual(new Array(16).fill(0));
  });
  it('spans exactly [0, 1] after upsampling', () => {
    const m = camToImage([0, 1, 2, 5], 2, 2, 9, 9);
    expect(Math.min(...m)).toBe(0);
    expect(Math.max(...m)).toBe(1);
  });
});

describe('weightedChannelSum', () => {
  it('is ReLU(sum_k w_k A_k)', () => {
    // two channels of 1x2: A0 = [1, -2], A1 = [3, 1]; w = [2, -1] -> [2-3, -4-1] = [-1, -5] -> ReLU 0
    expect(Array.from(weightedChannelSum({ data: [1, -2, 3, 1], channels: 2, height: 1, width: 2 }, [2, -1]))).toEqual([
      0, 0,
    ]);
    // w = [1, 1] -> [4, -1] -> [4, 0]
    expect(Array.from(weightedChannelSum({ data: [1, -2, 3, 1], channels: 2, height: 1, width: 2 }, [1, 1]))).toEqual([
      4, 0,
    ]);
  });
  it('refuses a feature map of the wrong length', () => {
    expect(() => weightedChannelSum({ data: [1, 2, 3], channels: 2, height: 1, width: 2 }, [1, 1])).toThrow(
      /needs 4 values/,
    );
  });
});

describe('featureMapAt', () => {
  it('views one image of a batch', () => {
    const data = Float32Array.from({ length: 2 * 2 * 1 * 3 }, (_, i) => i);
    const fm = featureMapAt(data, [2, 2, 1, 3], 1);
    expect([fm.channels, fm.height, fm.width]).toEqual([2, 1, 3]);
    expect(Array.from(fm.data)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(() => featureMapAt(data, [2, 2, 1, 3], 2)).toThrow(/outside a batch of 2/);
    expect(() => featureMapAt(data, [2, 6], 0)).toThrow(/\[N, C, H, W\]/);
  });
});

describe('maps on the region the model saw (manifest resize fill / cover)', () => {
  it('fill covers the whole image', () => {
    expect(visibleRegion(300, 150, { mode: 'fill', modelWidth: 100, modelHeight: 100 })).toEqual({
      left: 0,
      top: 0,
      width: 300,
      height: 150,
    });
    expect(visibleRegion(300, 150)).toEqual({ left: 0, top: 0, width: 300, height: 150 });
  });

  it('cover is the centred crop with the model aspect ratio', () => {
    // 300x150 scaled by 2/3 to 200x100, centre 100x100 kept: 150x150 of the image from x = 75
    expect(visibleRegion(300, 150, { mode: 'cover', modelWidth: 100, modelHeight: 100 })).toEqual({
      left: 75,
      top: 0,
      width: 150,
      height: 150,
    });
    expect(visibleRegion(100, 300, { mode: 'cover', modelWidth: 50, modelHeight: 50 })).toEqual({
      left: 0,
      top: 100,
      width: 100,
      height: 100,
    });
  });

  it('matches the crop sharp makes for resize cover', async () => {
    // a 200x100 image whose red channel is the column index: sharp's cover to 100x100 keeps columns 50..149
    const raw = Buffer.alloc(200 * 100 * 3);
    for (let p = 0; p < 200 * 100; p++) raw[p * 3] = p % 200;
    const { data } = await sharp(raw, { raw: { width: 200, height: 100, channels: 3 } })
      .resize(100, 100, { fit: 'cover' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const r = visibleRegion(200, 100, { mode: 'cover', modelWidth: 100, modelHeight: 100 });
    expect(data[0]).toBe(r.left);
    expect(data[99 * 3]).toBe(r.left + r.width - 1);
  });

  it('places a cover map inside its crop and zero outside', () => {
    const out = mapToImage([1], 1, 1, 4, 2, { mode: 'cover', modelWidth: 1, modelHeight: 1 });
    expect(Array.from(out)).toEqual([0, 1, 1, 0, 0, 1, 1, 0]);
    // a 2x1 CAM [0, 2] on a 6x2 image through a 1:1 cover crop (the centre 2x2): scaled, then placed
    const cam = camToImage([0, 2], 2, 1, 6, 2, { mode: 'cover', modelWidth: 2, modelHeight: 2 });
    expect(Array.from(cam)).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
  });
});
