import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/infra/config';
import { createLogger } from '../../src/infra/observability/logger';
import { openDatabase } from '../../src/infra/database/database';
import { AuditLog, Role, User } from '../../src/entities';
import { verifyPassword } from '../../src/modules/accounts/passwords/password-hash';
import { createAdmin } from '../../src/commands/create-admin';
import { createTestDatabase } from '../support/database';

describe('dermagraph create-admin', () => {
  let dataDir: string;
  let config: ReturnType<typeof loadConfig>;
  const logger = createLogger({ LOG_LEVEL: 'silent' });

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'dg-admin-'));
    config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      DATABASE_URL: await createTestDatabase(),
    });
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates a verified ADMIN with an argon2id hash, once; refuses a weak password and a second run', async () => {
    await expect(createAdmin(config, logger, { email: 'root@example.org', password: 'password123' })).rejects.toThrow(
      /commonly used.*ADMIN_PASSWORD/,
    );
    const admin = await createAdmin(config, logger, {
      email: ' Root@Example.org ',
      password: 'ocular rosacea 12',
      name: 'Root',
    });
    expect(admin.email).toBe('root@example.org');
    await expect(
      createAdmin(config, logger, { email: 'root@example.org', password: 'ocular rosacea 12' }),
    ).rejects.toThrow(/already an admin/);
    const db = await openDatabase(config, logger);
    try {
      const em = db.orm.em.fork();
      const user = await em.findOneOrFail(User, { email: 'root@example.org' });
      expect(user).toMatchObject({ role: Role.ADMIN, name: 'Root' });
      expect(user.emailVerifiedAt).toBeInstanceOf(Date);
      expect(await verifyPassword(user.passwordHash, 'ocular rosacea 12')).toBe(true);
      expect(await em.count(AuditLog, { userId: user.id, action: 'ADMIN_CREATED' })).toBe(1);
    } finally {
      await db.close();
    }
  });
});
