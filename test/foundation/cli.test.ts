import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { CLI } from '../../bench/serve-process';
import { loadEnvFile } from '../../src/commands/env-file';
import { CommandError, describeFailure } from '../../src/commands/failures';
import { ConfigError } from '../../src/infra/config';
import { AppError } from '../../src/infra/errors';
import { packageVersion } from '../../src/infra/paths';
import { makeClassifierPackage } from '../fixtures/models/packages';

/**
 * Issue [9], "the first hour": the built `dermagraph` CLI reads .env (the environment wins), prints
 * its version, and ends on an expected failure with one line on standard error, no stack.
 */
interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Ran> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: opts.cwd, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', ...opts.env }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-cli-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A folder of its own, holding `.env` (and other files) as given. */
function folder(name: string, files: Record<string, string> = {}): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  return dir;
}

describe('.env', () => {
  // rotate-jwt-key reads the config (DATA_DIR) and writes a key under DATA_DIR/keys: where the key lands says which value won.
  it('a value in ./.env is applied', async () => {
    const cwd = folder('dotenv-applied', { '.env': '# a comment\nDATA_DIR=./from-dotenv\n' });
    const r = await cli(['rotate-jwt-key'], { cwd });
    expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/^signing key /) });
    expect(fs.readdirSync(path.join(cwd, 'from-dotenv', 'keys')).length).toBeGreaterThan(0);
  });

  it('the environment wins over .env', async () => {
    const cwd = folder('dotenv-env-wins', { '.env': 'DATA_DIR=./from-dotenv\n' });
    const r = await cli(['rotate-jwt-key'], { cwd, env: { DATA_DIR: './from-env' } });
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(cwd, 'from-env', 'keys'))).toBe(true);
    expect(fs.existsSync(path.join(cwd, 'from-dotenv'))).toBe(false);
  });

  it('--env-file and DOTENV_PATH name another file; a named file that is missing is a configuration error', async () => {
    const cwd = folder('dotenv-named', {
      '.env': 'DATA_DIR=./from-dotenv\n',
      'staging.env': 'DATA_DIR=./from-staging\n',
    });
    expect((await cli(['--env-file', 'staging.env', 'rotate-jwt-key'], { cwd })).code).toBe(0);
    expect(fs.existsSync(path.join(cwd, 'from-staging', 'keys'))).toBe(true);
    expect(fs.existsSync(path.join(cwd, 'from-dotenv'))).toBe(false);

    const missing = await cli(['rotate-jwt-key'], { cwd, env: { DOTENV_PATH: 'nowhere.env' } });
    expect(missing.code).toBe(78);
    expect(missing.stderr).toMatch(/DOTENV_PATH: cannot read .*nowhere\.env \(ENOENT\)/);
    noStack(missing.stderr);
  });

  it('loadEnvFile: quotes, comments and empty values as dotenv reads them; a variable set empty still wins', () => {
    const cwd = folder('dotenv-parse', {
      '.env': 'A="quoted value"\nB=plain # comment\nC=\nD=from file\nexport E=exported\n',
    });
    const env: NodeJS.ProcessEnv = { D: '' };
    expect(loadEnvFile(undefined, env, cwd)).toBe(path.join(cwd, '.env'));
    expect(env).toEqual({ A: 'quoted value', B: 'plain', C: '', D: '', E: 'exported' });
    expect(loadEnvFile(undefined, {}, folder('dotenv-none'))).toBeNull();
  });
});

it('--version prints the package version', async () => {
  const r = await cli(['--version'], { cwd: work });
  expect(r).toEqual({ code: 0, stdout: `${packageVersion}\n`, stderr: '' });
});

it('a reader that stops early (`dermagraph schema | head -1`) ends the command quietly, exit 0', async () => {
  const child = spawn(process.execPath, [CLI, 'schema'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b));
  // The pipe closed before the schema is written, as `head` closes it once it has read its lines.
  child.stdout.destroy();
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
});

describe('expected failures: one line, no stack', () => {
  it('a port in use names the port and the host', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await cli(['serve'], { cwd: folder('port'), env: { PORT: String(port), HOST: '127.0.0.1' } });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `error: port ${port} on 127.0.0.1 is already in use (EADDRINUSE): stop the process listening there or set PORT (and HOST) to a free address\n`,
      );
    } finally {
      blocker.close();
    }
  });

  it('a wrong variable exits 78 naming it', async () => {
    const r = await cli(['serve'], { cwd: folder('config'), env: { PORT: 'abc' } });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^Invalid configuration:\n {2}PORT: .*\(got "abc"\)\n$/);
  });

  it('a refused create-admin prints the policy message', async () => {
    const cwd = folder('admin');
    const r = await cli(['create-admin', '--email', 'root@example.org'], { cwd, env: { ADMIN_PASSWORD: 'short' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Password must be at least 8 characters long \(ADMIN_PASSWORD\)\n$/);
    // Refused before the database opened: no embedded database was made under ./data.
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('describeFailure: AppError and CommandError without a stack, anything else with it', () => {
    expect(describeFailure(new AppError('NOT_FOUND', 'Image not found', { field: 'imageId' }))).toEqual({
      text: 'error: Image not found (NOT_FOUND, field imageId)\n',
      exitCode: 1,
    });
    expect(describeFailure(new CommandError('cancelled', 130))).toEqual({ text: 'error: cancelled\n', exitCode: 130 });
    expect(describeFailure(new ConfigError(['PORT: bad'])).exitCode).toBe(78);
    const bug = describeFailure(new TypeError('x is undefined'));
    expect(bug.text).toMatch(/^unexpected error .*\nTypeError: x is undefined\n\s+at /);
  });
});

it('`models pack <dir> <archive>` as docs/packaging.md writes it', async () => {
  const cwd = folder('pack');
  fs.renameSync(await makeClassifierPackage(cwd), path.join(cwd, 'my-model'));
  const r = await cli(['models', 'pack', 'my-model/', 'my-model-1.0.0.tar.gz'], { cwd });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^packed tiny-classifier@1\.0\.0: 5 files, \d+ bytes -> .*my-model-1\.0\.0\.tar\.gz\n/);
  expect(fs.statSync(path.join(cwd, 'my-model-1.0.0.tar.gz')).size).toBeGreaterThan(0);
});
