import { ConfigError, loadConfig } from '../../src/infra/config';
import { qualityThresholds } from '../../src/inference/abstain';

describe('abstention config (ABSTAIN_MARGIN, QUALITY_*)', () => {
  it('has the measured defaults (docs/inference.md, "Image quality and abstention")', () => {
    const c = loadConfig({});
    expect(c.ABSTAIN_MARGIN).toBe(0.1);
    // minSharpness, maxSharpness, minBrightness, maxDarkFraction, maxBrightFraction, minSkinFraction.
    expect(Object.values(qualityThresholds(c))).toEqual([4, 1000, 50, 0.6, 0.65, 0.1]);
  });

  it('reads decimal numbers, with 0 (max fractions: 1) turning a check off', () => {
    const c = loadConfig({ ABSTAIN_MARGIN: ' 0.25 ', QUALITY_MIN_SHARPNESS: '0', QUALITY_MAX_DARK_FRACTION: '1e0' });
    expect([c.ABSTAIN_MARGIN, c.QUALITY_MIN_SHARPNESS, c.QUALITY_MAX_DARK_FRACTION]).toEqual([0.25, 0, 1]);
  });

  it.each([
    ['ABSTAIN_MARGIN', ''],
    ['ABSTAIN_MARGIN', 'abc'],
    ['ABSTAIN_MARGIN', '-0.1'],
    ['ABSTAIN_MARGIN', '1.5'],
    ['ABSTAIN_MARGIN', 'NaN'],
    ['ABSTAIN_MARGIN', 'Infinity'],
    ['ABSTAIN_MARGIN', '0x10'],
    ['QUALITY_MIN_SHARPNESS', '-1'],
    ['QUALITY_MAX_SHARPNESS', '1e9'],
    ['QUALITY_MIN_BRIGHTNESS', '256'],
    ['QUALITY_MAX_DARK_FRACTION', '2'],
    ['QUALITY_MAX_BRIGHT_FRACTION', 'half'],
    ['QUALITY_MIN_SKIN_FRACTION', '10%'],
  ])('refuses %s=%j at start, naming it', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(`${key}: .*\\(got ${JSON.stringify(value)}\\)`));
  });

  it('refuses a minimum sharpness above the maximum (every image would be flagged)', () => {
    expect(() => loadConfig({ QUALITY_MIN_SHARPNESS: '50', QUALITY_MAX_SHARPNESS: '40' })).toThrow(
      /QUALITY_MIN_SHARPNESS: must not exceed QUALITY_MAX_SHARPNESS/,
    );
    // A maximum of 0 is "off", not a bound.
    expect(loadConfig({ QUALITY_MIN_SHARPNESS: '50', QUALITY_MAX_SHARPNESS: '0' }).QUALITY_MIN_SHARPNESS).toBe(50);
  });
});
