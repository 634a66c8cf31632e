import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './env';

/**
 * The secrets a server needs that have no safe public default. Unset (outside production, where
 * loadConfig refuses to start without them), each is generated once per data directory and kept
 * under DATA_DIR/keys, beside the JWT keys: files 0600 in a 0700 folder. Processes that share
 * DATA_DIR (an api and its workers on one machine) share them; restarts keep them, so signed URLs
 * and encrypted TOTP secrets stay valid.
 */
export const GENERATED_SECRETS = {
  URL_SIGNING_SECRET: 'url-signing-secret',
  TOTP_ENCRYPTION_KEY: 'totp-encryption-key',
} as const;
type SecretName = keyof typeof GENERATED_SECRETS;

/** The shortest secret accepted from a file (32 random bytes are written: 43 base64url characters). */
const MIN_LENGTH = 32;

/** Reads DATA_DIR/keys/<file>, creating it with 32 random bytes first when it does not exist. */
export function dataDirSecret(dataDir: string, file: string): string {
  const dir = path.join(dataDir, 'keys');
  const target = path.join(dir, file);
  if (!fs.existsSync(target)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Written aside, then linked into place: link() fails when the name exists, so of two processes
    // starting at once one creates the secret and the other reads it, never a half-written file.
    const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      fs.linkSync(tmp, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  const value = fs.readFileSync(target, 'utf8').trim();
  if (value.length < MIN_LENGTH)
    throw new Error(
      `${target} holds no usable secret (at least ${MIN_LENGTH} characters); delete it to make a new one`,
    );
  return value;
}

/**
 * Fills the unset secrets of `config` from DATA_DIR/keys (generating them on first use). The config
 * object is completed in place, so every holder of it (services, routes, the test harness) sees the
 * same values; calling it again changes nothing.
 */
export function ensureSecrets(config: Config): Config {
  for (const name of Object.keys(GENERATED_SECRETS) as SecretName[]) {
    if (!config[name]) config[name] = dataDirSecret(config.dataDir, GENERATED_SECRETS[name]);
  }
  return config;
}
