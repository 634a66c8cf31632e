/**
 * The severity cut points have one home (the configuration): they must be ordered when loaded, and the
 * README's severity table states the configuration's defaults with the inequalities the code applies.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/infra/config';
import { severityOf } from '../../src/modules/jobs';
import { severity } from '../../src/inference/severity';

const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');

describe('severity configuration', () => {
  it('refuses cut points out of order at load, naming the variable', () => {
    expect(() => loadConfig({ SEVERITY_SMALL_AREA_PERCENT: '30' })).toThrow(ConfigError);
    expect(() => loadConfig({ SEVERITY_SMALL_AREA_PERCENT: '30' })).toThrow(/SEVERITY_SMALL_AREA_PERCENT: must not/);
    expect(() => loadConfig({ SEVERITY_LOW_CIRCULARITY: '0.8' })).toThrow(/SEVERITY_LOW_CIRCULARITY: must not/);
    // Equal cut points leave no lesion both LOW and HIGH: accepted.
    expect(severityOf(loadConfig({ SEVERITY_SMALL_AREA_PERCENT: '20', SEVERITY_LOW_CIRCULARITY: '0.75' }))).toEqual({
      smallAreaPercent: 20,
      largeAreaPercent: 20,
      highCircularity: 0.75,
      lowCircularity: 0.75,
    });
  });

  it('README table: the config defaults, with the inequalities severity() applies', () => {
    const t = severityOf(loadConfig({}));
    const rows = [
      `| \`HIGH\` | \`areaPercent >= SEVERITY_LARGE_AREA_PERCENT\` (${t.largeAreaPercent}) **or** \`circularity < SEVERITY_LOW_CIRCULARITY\` (${t.lowCircularity}) |`,
      `| \`LOW\` | \`areaPercent < SEVERITY_SMALL_AREA_PERCENT\` (${t.smallAreaPercent}) **and** \`circularity >= SEVERITY_HIGH_CIRCULARITY\` (${t.highCircularity}) |`,
    ];
    for (const row of rows) expect(readme).toContain(row);
    // Each inequality as written, at its cut point.
    expect(severity(t.largeAreaPercent, 0.9, t)).toBe('HIGH');
    expect(severity(1, t.lowCircularity, t)).not.toBe('HIGH');
    expect(severity(t.smallAreaPercent, 0.9, t)).toBe('MODERATE');
    expect(severity(1, t.highCircularity, t)).toBe('LOW');
  });
});
