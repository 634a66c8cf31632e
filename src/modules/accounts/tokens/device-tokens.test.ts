import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { User } from '../../../entities';
import { DeviceTokens, passwordFingerprint } from './device-tokens';
import { JwtService, loadKeyRing } from './jwt';

describe("device tokens (the owner's known device)", () => {
  let dir: string;
  let devices: DeviceTokens;
  const user = (id: string, passwordHash: string) => Object.assign(new User(), { id, passwordHash });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dg-device-'));
    devices = new DeviceTokens(
      new JwtService(await loadKeyRing({ keyDir: dir }), { issuer: 'dermagraph', audience: 'dermagraph-api' }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the device for its own account under its current password, nothing else', async () => {
    const jane = user('00000000-0000-4000-8000-000000000001', '$argon2id$v=19$m=19456,t=2,p=1$a$b');
    const token = await devices.issue(jane);
    const did = await devices.deviceOf(jane, token);
    expect(did).toEqual(expect.any(String));
    expect(await devices.deviceOf(jane, await devices.issue(jane, did))).toBe(did); // kept on re-issue
    expect(await devices.deviceOf(user('00000000-0000-4000-8000-000000000002', jane.passwordHash), token)).toBeNull();
    expect(await devices.deviceOf(user(jane.id, '$argon2id$v=19$m=19456,t=2,p=1$c$d'), token)).toBeNull(); // password changed
    expect(await devices.deviceOf(null, token)).toBeNull();
    for (const bad of [null, undefined, '', 'garbage', 'x'.repeat(10_000)])
      expect(await devices.deviceOf(jane, bad)).toBeNull();
  });

  it('carries a digest of the password hash, not the hash', async () => {
    const hash = '$argon2id$v=19$m=19456,t=2,p=1$salt$hash';
    const token = await devices.issue(user('00000000-0000-4000-8000-000000000003', hash));
    const payload = Buffer.from(token.split('.')[1], 'base64url').toString();
    expect(payload).not.toContain('argon2');
    expect(JSON.parse(payload).pwf).toBe(passwordFingerprint(hash));
  });
});
