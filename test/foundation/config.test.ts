import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, envSchema, loadConfig } from '../../src/config';

const root = path.resolve(__dirname, '..', '..');

describe('config', () => {
  it('gives the embedded defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(4000);
    expect(c.embeddedDatabase).toBe(true);
    expect(c.REDIS_URL).toBe('');
    expect(c.graphiqlEnabled).toBe(true);
  });

  it('names the variable at fault', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x/y' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ REDIS_URL: 'nope' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ MODEL_WATCH: 'maybe' })).toThrow(/MODEL_WATCH/);
  });

  it('refuses to run production on default secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/TOTP_ENCRYPTION_KEY/);
    const strong = 'x'.repeat(40);
    const c = loadConfig({ NODE_ENV: 'production', TOTP_ENCRYPTION_KEY: strong, URL_SIGNING_SECRET: strong });
    expect(c.graphiqlEnabled).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', TOTP_ENCRYPTION_KEY: strong, URL_SIGNING_SECRET: strong, GRAPHIQL: '1' }).graphiqlEnabled).toBe(true);
  });

  it('.env.example and the README list every variable', () => {
    const example = fs.readFileSync(path.join(root, '.env.example'), 'utf8');
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const missingExample = Object.keys(envSchema.shape).filter((k) => !listed.has(k));
    const missingReadme = Object.keys(envSchema.shape).filter((k) => !readme.includes(`\`${k}\``));
    expect({ missingExample, missingReadme }).toEqual({ missingExample: [], missingReadme: [] });
    const unknown = [...listed].filter((k) => !(k in envSchema.shape));
    expect(unknown).toEqual([]);
  });
});
