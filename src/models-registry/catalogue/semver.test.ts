import { compareSemver } from './semver';

describe('compareSemver', () => {
  it('orders versions as semver.org says', () => {
    const sorted = [
      '1.0.0',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-beta',
      '1.0.0-alpha.beta',
      '1.0.0-rc.1',
      '1.0.0-beta.11',
      '1.0.0-beta.2',
      '0.9.10',
      '0.9.9',
      '10.0.0',
      '2.0.0',
    ].sort(compareSemver);
    expect(sorted).toEqual([
      '0.9.9',
      '0.9.10',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '2.0.0',
      '10.0.0',
    ]);
    expect(compareSemver('1.2.3+build', '1.2.3')).toBe(0);
  });
});
