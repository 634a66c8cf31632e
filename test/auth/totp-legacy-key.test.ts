import { DEFAULT_SECRET } from '../../src/infra/config';
import { TwoFactor, User } from '../../src/entities';
import { SecretBox } from '../../src/modules/accounts/two-factor/secret-box';
import { reencryptTotpSecrets } from '../../src/modules/accounts/two-factor/totp-rekey';
import { generateTotpSecret } from '../../src/modules/accounts/two-factor/totp';
import { startTestServer, type TestServer } from '../support/server';
import { gql, M, oathtoolCode } from './helpers';

/**
 * Issue [7], "Safe defaults for npm start": TOTP_ENCRYPTION_KEY is no longer the public default when
 * unset but a key generated under DATA_DIR/keys. Data directories from earlier versions hold TOTP
 * secrets encrypted under the public default: those users must keep their 2FA. The old key stays for
 * decryption only, and each start re-encrypts such rows under the current key.
 */
describe('TOTP secrets stored under the old public default key', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ redis: false });
  });
  afterAll(() => server?.close());

  let n = 0;
  /** A verified user whose 2FA was enrolled by an earlier version (secret under the old default key). */
  async function legacyTwoFactorUser(): Promise<{ email: string; password: string; secret: string; id: string }> {
    const email = `legacy-${++n}@example.test`;
    const password = 'nummular eczema 88';
    const em = server.services.db.orm.em.fork();
    const { id } = await server.services.auth.registration.register(
      em,
      { email, password },
      { ip: '198.51.100.7', userAgent: 'jest' },
    );
    const user = await em.findOneOrFail(User, { id });
    user.emailVerifiedAt = new Date();
    const secret = generateTotpSecret();
    const tf = new TwoFactor();
    tf.user = user;
    tf.secretEncrypted = new SecretBox(DEFAULT_SECRET).encrypt(secret, id);
    tf.enabledAt = new Date();
    em.persist(tf);
    await em.flush();
    return { email, password, secret, id };
  }

  async function signInWithTotp(u: { email: string; password: string; secret: string }) {
    const first = await gql(server, M.login, { email: u.email, password: u.password });
    expect(first.data?.login).toMatchObject({ twoFactorRequired: true });
    return gql(server, M.verifyTwoFactor, {
      challengeToken: first.data!.login.challengeToken,
      code: oathtoolCode(u.secret),
    });
  }

  it('the server uses a generated key, not the public default', () => {
    expect(server.config.TOTP_ENCRYPTION_KEY).not.toBe(DEFAULT_SECRET);
    expect(new SecretBox(server.config.TOTP_ENCRYPTION_KEY).keyId).not.toBe(new SecretBox(DEFAULT_SECRET).keyId);
  });

  it('a user whose secret is still under the old key signs in with 2FA (the old key decrypts)', async () => {
    const u = await legacyTwoFactorUser();
    const done = await signInWithTotp(u);
    expect(done.errors).toBeUndefined();
    expect(done.data!.verifyTwoFactor.accessToken).toEqual(expect.any(String));
  });

  it('re-encrypts legacy rows under the current key (createAuthModule runs this at each start); unknown keys are left alone; the user signs in with 2FA', async () => {
    const legacy = await legacyTwoFactorUser();
    const foreign = await legacyTwoFactorUser();
    const em = server.services.db.orm.em.fork();
    const foreignBox = new SecretBox('a key this server never had, long enough 0123').encrypt(
      foreign.secret,
      foreign.id,
    );
    await em.nativeUpdate(TwoFactor, { user: foreign.id }, { secretEncrypted: foreignBox });

    const current = new SecretBox(server.config.TOTP_ENCRYPTION_KEY, [DEFAULT_SECRET]);
    const result = await reencryptTotpSecrets(em.fork(), current);
    expect(result.reencrypted).toBeGreaterThanOrEqual(1);
    expect(result.unreadable).toBeGreaterThanOrEqual(1);
    const row = await em.fork().findOneOrFail(TwoFactor, { user: legacy.id });
    expect(row.secretEncrypted.split('.')[1]).toBe(current.keyId);
    // Readable without the old key now.
    expect(new SecretBox(server.config.TOTP_ENCRYPTION_KEY).decrypt(row.secretEncrypted, legacy.id)).toBe(
      legacy.secret,
    );
    expect((await em.fork().findOneOrFail(TwoFactor, { user: foreign.id })).secretEncrypted).toBe(foreignBox);
    expect(await reencryptTotpSecrets(em.fork(), current)).toMatchObject({ reencrypted: 0 });
    const done = await signInWithTotp(legacy);
    expect(done.errors).toBeUndefined();
    expect(done.data!.verifyTwoFactor.accessToken).toEqual(expect.any(String));
  });
});
