import { AUTH_RATE_LIMITS } from '../../src/modules/accounts/limits/rate-limit';
import { startTestServer, type TestServer } from '../support/server';
import { startSmtpCapture } from './smtp-capture';
import { AUTH_PAYLOAD, createVerifiedUser, gql, M, onlyError } from './helpers';

const LOGIN_WITH_DEVICE = `mutation($email: String!, $password: String!, $deviceToken: String) {
  login(email: $email, password: $password, deviceToken: $deviceToken) { ${AUTH_PAYLOAD} deviceToken } }`;
const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

/**
 * Issue [7]: per-account sign-in limits refused the owner's correct password, so anyone could keep
 * an account locked with ~10 requests per 15 minutes. Now strangers share the per-account budget,
 * while the owner's known device (device token) and the IP the owner signed in from have lanes of
 * their own; the attacker is still limited, per account+IP pair and per account.
 */
describe('accounts: sign-in limits that do not lock the owner out', () => {
  let server: TestServer;
  let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  const email = 'locked-out@example.org';
  const password = 'keratoacanthoma 5';
  const ownerIp = '198.51.100.150';
  let deviceToken: string;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    const rule = (max: number) => ({ name: 'login', max, windowMs: 900_000 });
    server = await startTestServer({
      env: { SMTP_URL: smtp.url },
      auth: {
        rateLimits: {
          login: {
            ...AUTH_RATE_LIMITS.login,
            perIp: rule(1000),
            perAccount: rule(5),
            perPair: rule(4),
            perDevice: rule(4),
          },
        },
      },
    });
    await createVerifiedUser(server, smtp, email, password, ownerIp);
    const first = await gql(server, LOGIN_WITH_DEVICE, { email, password }, { ip: ownerIp });
    deviceToken = first.data!.login.deviceToken;
    expect(claims(deviceToken)).toMatchObject({ sub: first.data!.login.user.id, did: expect.any(String) });
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  const login = (ip: string, pw: string, device?: string) =>
    gql(server, LOGIN_WITH_DEVICE, { email, password: pw, deviceToken: device ?? null }, { ip });
  const code = (r: Awaited<ReturnType<typeof login>>) =>
    r.errors ? [r.errors[0].extensions!.code, r.errors[0].extensions!.reason].filter(Boolean).join(':') : 'OK';

  it('an attacker is limited: per account+IP pair, then with every other address by the account budget', async () => {
    const attacker = '203.0.113.60';
    const own = [];
    for (let i = 0; i < 5; i++) own.push(code(await login(attacker, `guess number ${i}`)));
    // 4 guesses from this pair, then its own budget is spent.
    expect(own).toEqual([...Array(4).fill('UNAUTHENTICATED:INVALID_CREDENTIALS'), 'RATE_LIMITED']);
    // The account's shared budget (5) is spent too: the owner's first sign-in (then an unknown client)
    // and these 4 guesses. Every other stranger is refused now, right password or not.
    expect(code(await login('203.0.113.61', 'guess from elsewhere'))).toBe('RATE_LIMITED');
    const refused = await login('203.0.113.62', password);
    expect(onlyError(refused).extensions).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: expect.any(Number),
    });
    expect(onlyError(refused).extensions!.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('the owner still signs in: with the device token from anywhere, and from the IP they signed in from', async () => {
    const fromDevice = await login('192.0.2.99', password, deviceToken);
    expect(fromDevice.errors).toBeUndefined();
    expect(fromDevice.data!.login.accessToken).toEqual(expect.any(String));
    // The same device keeps its id.
    expect(claims(fromDevice.data!.login.deviceToken).did).toBe(claims(deviceToken).did);
    const fromHome = await login(ownerIp, password);
    expect(fromHome.errors).toBeUndefined();
    // A client that is neither (a new browser on a new network) waits with the strangers: documented.
    expect(onlyError(await login('192.0.2.100', password)).extensions).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('a device token only counts for itself: a thief with it is limited by its own budget, and the owner is not', async () => {
    const thief = [];
    for (let i = 0; i < 5; i++) thief.push(code(await login('203.0.113.70', `stolen token guess ${i}`, deviceToken)));
    expect(thief).toEqual([...Array(4).fill('UNAUTHENTICATED:INVALID_CREDENTIALS'), 'RATE_LIMITED']);
    expect((await login(ownerIp, password)).errors).toBeUndefined();
  });

  it('a device token of another account, or from before a password change, is an unknown client', async () => {
    const other = 'other-owner@example.org';
    await createVerifiedUser(server, smtp, other, password, ownerIp);
    const otherLogin = (await gql(server, LOGIN_WITH_DEVICE, { email: other, password }, { ip: ownerIp })).data!.login;
    // Shown to the locked account from a new address: still refused with the strangers.
    expect(onlyError(await login('192.0.2.101', password, otherLogin.deviceToken)).extensions).toMatchObject({
      code: 'RATE_LIMITED',
    });
    const changed = await gql(
      server,
      M.changePassword,
      { currentPassword: password, newPassword: 'a changed passphrase 9' },
      { token: otherLogin.accessToken, ip: ownerIp },
    );
    expect(changed.errors).toBeUndefined();
    const stale = await gql(
      server,
      LOGIN_WITH_DEVICE,
      { email: other, password: 'a changed passphrase 9', deviceToken: otherLogin.deviceToken },
      { ip: '192.0.2.102' },
    );
    expect(stale.errors).toBeUndefined();
    expect(claims(stale.data!.login.deviceToken).did).not.toBe(claims(otherLogin.deviceToken).did);
  });
});
