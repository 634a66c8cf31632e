import { activate, sigmoid, softmax } from './activations';

describe('activations', () => {
  it('softmax knows its answers and is stable for large logits', () => {
    expect(softmax([0, 0])).toEqual([0.5, 0.5]);
    const p = softmax([Math.log(1), Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    expect(softmax([1000, 1000 + Math.log(3)])[1]).toBeCloseTo(0.75, 12);
  });

  it('sigmoid is symmetric and does not overflow', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(Math.log(3))).toBeCloseTo(0.75, 12);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
  });

  it('activate applies the manifest activation', () => {
    expect(activate([0, 0], 'softmax')).toEqual([0.5, 0.5]);
    expect(activate([0, 0], 'sigmoid')).toEqual([0.5, 0.5]);
    expect(activate(Float32Array.of(2, 3), 'none')).toEqual([2, 3]);
  });
});
