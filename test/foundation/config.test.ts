import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  DEFAULT_SECRET,
  envSchema,
  loadConfig,
  SECTION_KEYS,
  sections,
  type DatabaseConfig,
} from '../../src/infra/config';
import { ensureSecrets } from '../../src/infra/config/secrets';

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

  // Issue [7], "Safe defaults for npm start": loopback, and no public default secret.
  it('binds to loopback and has no secret by default; the old public default counts as unset', () => {
    const c = loadConfig({});
    expect(c.HOST).toBe('127.0.0.1');
    expect([c.TOTP_ENCRYPTION_KEY, c.URL_SIGNING_SECRET]).toEqual(['', '']);
    const old = loadConfig({ TOTP_ENCRYPTION_KEY: DEFAULT_SECRET, URL_SIGNING_SECRET: DEFAULT_SECRET });
    expect([old.TOTP_ENCRYPTION_KEY, old.URL_SIGNING_SECRET]).toEqual(['', '']);
  });

  it('generates unset secrets once per data directory (0600 files in a 0700 folder) and keeps set ones', () => {
    const a = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-secrets-'));
    const b = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-secrets-'));
    try {
      const first = ensureSecrets(loadConfig({ DATA_DIR: a }));
      const again = ensureSecrets(loadConfig({ DATA_DIR: a }));
      const other = ensureSecrets(loadConfig({ DATA_DIR: b }));
      expect(first.URL_SIGNING_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(first.TOTP_ENCRYPTION_KEY).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(first.URL_SIGNING_SECRET).not.toBe(first.TOTP_ENCRYPTION_KEY);
      expect([again.URL_SIGNING_SECRET, again.TOTP_ENCRYPTION_KEY]).toEqual([
        first.URL_SIGNING_SECRET,
        first.TOTP_ENCRYPTION_KEY,
      ]);
      expect(other.URL_SIGNING_SECRET).not.toBe(first.URL_SIGNING_SECRET);
      expect(fs.statSync(path.join(a, 'keys')).mode & 0o777).toBe(0o700);
      for (const f of fs.readdirSync(path.join(a, 'keys')))
        expect(fs.statSync(path.join(a, 'keys', f)).mode & 0o777).toBe(0o600);
      const set = ensureSecrets(loadConfig({ DATA_DIR: b, URL_SIGNING_SECRET: 'u'.repeat(40) }));
      expect(set.URL_SIGNING_SECRET).toBe('u'.repeat(40));
    } finally {
      fs.rmSync(a, { recursive: true, force: true });
      fs.rmSync(b, { recursive: true, force: true });
    }
  });

  it('refuses to run production on default secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/TOTP_ENCRYPTION_KEY/);
    expect(() => loadConfig({ NODE_ENV: 'production', TOTP_ENCRYPTION_KEY: 'x'.repeat(40) })).toThrow(
      /URL_SIGNING_SECRET/,
    );
    expect(() =>
      loadConfig({ NODE_ENV: 'production', TOTP_ENCRYPTION_KEY: DEFAULT_SECRET, URL_SIGNING_SECRET: 'x'.repeat(40) }),
    ).toThrow(/TOTP_ENCRYPTION_KEY/);
    const strong = 'x'.repeat(40);
    const c = loadConfig({ NODE_ENV: 'production', TOTP_ENCRYPTION_KEY: strong, URL_SIGNING_SECRET: strong });
    expect(c.graphiqlEnabled).toBe(false);
    expect(
      loadConfig({ NODE_ENV: 'production', TOTP_ENCRYPTION_KEY: strong, URL_SIGNING_SECRET: strong, GRAPHIQL: '1' })
        .graphiqlEnabled,
    ).toBe(true);
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

  describe('sections', () => {
    // Keys of a loaded Config: every environment variable plus the values derived from them.
    const keys = Object.keys(loadConfig({}));

    it('put every setting in exactly one section', () => {
      const listed = Object.values(SECTION_KEYS).flat() as string[];
      const count = (k: string) => listed.filter((x) => x === k).length;
      expect(keys.filter((k) => count(k) !== 1)).toEqual([]);
      expect(Object.keys(envSchema.shape).filter((k) => count(k) !== 1)).toEqual([]);
      expect(listed.filter((k) => !keys.includes(k))).toEqual([]);
    });

    it('are read-only views of the config that see secrets filled in later', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-sections-'));
      try {
        const config = loadConfig({ DATA_DIR: dir, DATABASE_POOL_MAX: '7', REDIS_URL: 'redis://r:6379' });
        const s = sections(config);
        expect(s.database).toEqual({
          DATABASE_URL: '',
          DATABASE_POOL_MAX: 7,
          DATABASE_SCHEMA: 'public',
          embeddedDatabase: true,
        });
        expect(s.redis).toEqual({ REDIS_URL: 'redis://r:6379', REDIS_PREFIX: 'dg:' });
        for (const [name, view] of Object.entries(s))
          for (const [k, v] of Object.entries(view))
            expect([name, k, v]).toEqual([name, k, config[k as keyof typeof config]]);
        expect(s.storage.URL_SIGNING_SECRET).toBe('');
        ensureSecrets(config);
        expect(s.storage.URL_SIGNING_SECRET).toBe(config.URL_SIGNING_SECRET);
        expect(s.storage.URL_SIGNING_SECRET).not.toBe('');
        expect(() => {
          (s.database as { DATABASE_POOL_MAX: number }).DATABASE_POOL_MAX = 1;
        }).toThrow(TypeError);
        // A module that declares only its section still takes the whole config.
        const poolOf = (c: DatabaseConfig) => c.DATABASE_POOL_MAX;
        expect(poolOf(config)).toBe(7);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
