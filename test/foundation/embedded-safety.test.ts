import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, spawnServe, type ServeProcess } from '../../bench/serve-process';
import { seedEmbeddedDatabase } from '../support/embedded-template';
import { DEFAULT_SECRET } from '../../src/infra/config';
import { signature } from '../../src/infra/storage/signed-urls';

/**
 * Issue [7], "The embedded database" and "Safe defaults for npm start", on the real `dermagraph serve`
 * with embedded defaults (no DATABASE_URL, no REDIS_URL, no secrets), as `npm start` runs it:
 * - a second process on the same DATA_DIR (create-admin, migrate) is refused, naming the server,
 *   instead of reporting success and losing what it wrote; once the server stops it works;
 * - a crashed server's lock does not block the next start;
 * - PGlite is reachable only through a 0600 Unix socket in a 0700 folder: no TCP port at all;
 * - unset URL_SIGNING_SECRET / TOTP_ENCRYPTION_KEY are generated once per DATA_DIR (kept across
 *   starts), and a URL signed with the old public default is refused.
 */
const run = promisify(execFile);
let dataDir: string;
let server: ServeProcess;
const env = () => ({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', ALLOW_UNVERIFIED_LOGIN: '1' });

async function cli(
  args: string[],
  extra: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...extra },
      timeout: 120_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as {
    data?: any;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  };
}

/** `address:port` of the TCP sockets a process listens on (Linux: its socket inodes matched against /proc/net/tcp{,6}). */
function listeningTcp(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' }) || '');
    if (m) inodes.add(m[1]);
  }
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== '0A' || !inodes.has(cols[9])) continue;
      const [hex, port] = cols[1].split(':');
      const address = hex === '0100007F' ? '127.0.0.1' : /^0+$/.test(hex) ? 'any' : hex;
      found.push(`${address}:${parseInt(port, 16)}`);
    }
  }
  return found.sort();
}

const fileUrl = (secret: string) => {
  const id = randomUUID();
  const exp = Math.floor(Date.now() / 1000) + 600;
  const sig = signature(secret, { kind: 'image', id, variant: 'original' }, exp);
  return `${new URL(server.url).origin}/files/images/${id}/original?exp=${exp}&sig=${sig}`;
};
const generatedUrlSecret = () => fs.readFileSync(path.join(dataDir, 'keys', 'url-signing-secret'), 'utf8').trim();

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-embedded-safety-'));
  await seedEmbeddedDatabase(dataDir); // not a first start: test/foundation/embedded.test.ts has that
  server = await spawnServe(env(), 120_000);
}, 150_000);
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('embedded mode: one process per DATA_DIR, a private socket, generated secrets', () => {
  it('serves PGlite on a 0600 Unix socket in a 0700 folder; the only TCP port is the API, on loopback (HOST unset)', async () => {
    const socket = path.join(dataDir, 'pglite-socket', '.s.PGSQL.5432');
    expect(fs.statSync(socket).isSocket()).toBe(true);
    expect(fs.statSync(socket).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(socket)).mode & 0o777).toBe(0o700);
    // Before: PGlite also listened on a loopback TCP port, open to every local user without a password,
    // and the API listened on every interface.
    expect(listeningTcp(server.child.pid!)).toEqual([`127.0.0.1:${new URL(server.url).port}`]);
    if (process.getuid?.() === 0) {
      // Another local user (nobody) cannot connect to the socket.
      const probe = spawn(
        process.execPath,
        [
          '-e',
          `require('net').connect(${JSON.stringify(socket)}).on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`,
        ],
        { uid: 65534, gid: 65534 },
      );
      let out = '';
      probe.stdout.on('data', (d) => (out += d));
      await new Promise((r) => probe.once('exit', r));
      expect(out.trim()).toBe('EACCES');
    }
    expect((await gql('{ me { id } }')).data).toEqual({ me: null });
  });

  it('refuses a file URL signed with the old public default secret; accepts one signed with the generated secret', async () => {
    expect((await fetch(fileUrl(DEFAULT_SECRET))).status).toBe(403);
    const secret = generatedUrlSecret();
    expect(secret).not.toBe(DEFAULT_SECRET);
    expect(secret.length).toBeGreaterThanOrEqual(43);
    expect((await fetch(fileUrl(secret))).status).toBe(404); // signature accepted; no such image
    for (const f of ['url-signing-secret', 'totp-encryption-key'])
      expect(fs.statSync(path.join(dataDir, 'keys', f)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dataDir, 'keys')).mode & 0o777).toBe(0o700);
  });

  it('refuses create-admin and migrate beside the running server, naming it; after it stops they work and nothing is lost', async () => {
    const secretsBefore = ['url-signing-secret', 'totp-encryption-key'].map((f) =>
      fs.readFileSync(path.join(dataDir, 'keys', f), 'utf8'),
    );
    const pid = server.child.pid!;
    const admin = await cli(['create-admin', '--email', 'root@example.org'], { ADMIN_PASSWORD: 'ocular rosacea 12' });
    expect(admin.code).toBe(75);
    expect(admin.stderr).toContain(`is in use by the server (pid ${pid}`);
    expect(admin.stderr).toMatch(/stop that process first/);
    expect(admin.stdout).not.toMatch(/is ready/);
    const migrate = await cli(['migrate']);
    expect(migrate.code).toBe(75);
    expect(migrate.stderr).toContain(`(pid ${pid}`);
    // The server was not disturbed.
    expect((await gql('{ me { id } }')).data).toEqual({ me: null });

    expect(await server.stop()).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
    const ok = await cli(['create-admin', '--email', 'root@example.org'], { ADMIN_PASSWORD: 'ocular rosacea 12' });
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringContaining('admin root@example.org') });
    expect((await cli(['migrate'])).code).toBe(0);

    server = await spawnServe(env(), 120_000);
    const login = await gql(
      'mutation { login(email: "root@example.org", password: "ocular rosacea 12") { accessToken user { role } } }',
    );
    expect(login.errors).toBeUndefined();
    expect(login.data.login.user.role).toBe('ADMIN');
    // The same generated secrets on the second start: URLs signed before still verify.
    expect(
      ['url-signing-secret', 'totp-encryption-key'].map((f) => fs.readFileSync(path.join(dataDir, 'keys', f), 'utf8')),
    ).toEqual(secretsBefore);
    expect((await fetch(fileUrl(generatedUrlSecret()))).status).toBe(404);
  }, 240_000);

  it('a crashed server leaves its lock behind, and the next start takes it over', async () => {
    server.child.kill('SIGKILL');
    await new Promise((r) =>
      server.child.exitCode !== null || server.child.signalCode !== null ? r(null) : server.child.once('exit', r),
    );
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'pglite.lock'), 'utf8')).pid).toBe(server.child.pid);
    server = await spawnServe(env(), 120_000);
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'pglite.lock'), 'utf8')).pid).toBe(server.child.pid);
    const login = await gql(
      'mutation { login(email: "root@example.org", password: "ocular rosacea 12") { user { role } } }',
    );
    expect(login.data.login.user.role).toBe('ADMIN');
  }, 150_000);
});
