import { createHash } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/server';
import { linkIn, startSmtpCapture } from './smtp-capture';
import { gql, M, onlyError } from './helpers';

/**
 * Issue [9], "the first hour": the links in the verification and reset mails open pages of this
 * server that complete the action. Real SMTP: the mail is read, its link followed over HTTP, the
 * form posted as a browser posts it, and the account used.
 */
let server: TestServer;
let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  server = await startTestServer({ env: { SMTP_URL: smtp.url } });
});
afterAll(async () => {
  await server?.close();
  await smtp?.close();
});

interface Page {
  status: number;
  headers: Headers;
  body: string;
  url: URL;
}

/** The mailed link, sent to this test server (PUBLIC_URL names another port). */
function local(link: URL): URL {
  const u = new URL(link);
  u.host = new URL(server.url).host;
  return u;
}

async function open(url: URL, ip: string, init: RequestInit = {}): Promise<Page> {
  const res = await fetch(url, { ...init, headers: { 'x-forwarded-for': ip, ...(init.headers ?? {}) } });
  return { status: res.status, headers: res.headers, body: await res.text(), url };
}

/** Posts the page's form as a browser would: its action resolved against the page, its hidden fields plus `fill`. */
function submit(page: Page, ip: string, fill: Record<string, string> = {}): Promise<Page> {
  const action = /<form method="post" action="([^"]+)">/.exec(page.body)?.[1];
  if (!action) throw new Error(`no form in ${page.body}`);
  const fields = new URLSearchParams();
  for (const m of page.body.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) fields.set(m[1], m[2]);
  for (const [k, v] of Object.entries(fill)) fields.set(k, v);
  return open(new URL(action, page.url), ip, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
  });
}

const text = (page: Page) =>
  page.body
    .replace(/<style>[^<]*<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');

async function mailLink(to: string, before: number): Promise<URL> {
  await server.services.auth.drainBackground();
  return linkIn((await smtp.waitFor(to, before)).text);
}

const signIn = (email: string, password: string, ip: string) => gql(server, M.login, { email, password }, { ip });

it('verification: the mailed link opens a page; only its button confirms the address; then sign-in works', async () => {
  const ip = '198.51.100.31';
  const email = 'page-verify@example.org';
  const before = smtp.messages.length;
  expect((await gql(server, M.register, { input: { email, password: 'a long passphrase 1' } }, { ip })).errors).toBe(
    undefined,
  );
  const link = await mailLink(email, before);
  expect(link.pathname).toBe('/verify-email');

  const page = await open(local(link), ip);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(page.headers.get('content-security-policy')).toMatch(
    /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'$/,
  );
  // The hash a browser computes of the page's one stylesheet is the one the policy allows.
  const style = /<style>([^<]*)<\/style>/.exec(page.body)![1];
  expect(page.headers.get('content-security-policy')).toContain(
    `'sha256-${createHash('sha256').update(style).digest('base64')}'`,
  );
  expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  expect(page.headers.get('cache-control')).toBe('no-store');
  expect(page.body).not.toMatch(/<script/i);
  expect(text(page)).toContain('Confirm your email address');
  // Opening the link (as a mail scanner would) spent nothing: the account is still unverified.
  expect(onlyError(await signIn(email, 'a long passphrase 1', ip)).extensions).toMatchObject({
    reason: 'EMAIL_NOT_VERIFIED',
  });

  const done = await submit(page, ip);
  expect(done.status).toBe(200);
  expect(text(done)).toContain(`${email} is confirmed. You can sign in now.`);
  expect((await signIn(email, 'a long passphrase 1', ip)).data?.login.accessToken).toEqual(expect.any(String));

  const again = await submit(page, ip);
  expect(again.status).toBe(400);
  expect(text(again)).toContain('This link has already been used.');
});

it('reset: the form refuses two different passwords and the policy, keeping the link; a good one signs in', async () => {
  const ip = '198.51.100.32';
  const email = 'page-verify@example.org';
  const before = smtp.messages.length;
  expect((await gql(server, M.requestReset, { email }, { ip })).data).toEqual({ requestPasswordReset: true });
  const link = await mailLink(email, before);
  expect(link.pathname).toBe('/reset-password');

  const page = await open(local(link), ip);
  expect(page.status).toBe(200);
  expect(page.body).toMatch(/<input id="password" name="password" type="password" autocomplete="new-password"/);

  const differ = await submit(page, ip, { password: 'a new passphrase 2', confirm: 'a new passphrase 3' });
  expect(differ.status).toBe(400);
  expect(text(differ)).toContain('The two passwords are not the same.');

  const common = await submit(differ, ip, { password: 'password123', confirm: 'password123' });
  expect(common.status).toBe(400);
  expect(text(common)).toContain('This password is one of the most commonly used passwords; choose another');
  const short = await submit(common, ip, { password: 'short', confirm: 'short' });
  expect(text(short)).toContain('Password must be at least 8 characters long');

  const done = await submit(short, ip, { password: 'a new passphrase 2', confirm: 'a new passphrase 2' });
  expect(done.status).toBe(200);
  expect(text(done)).toContain('Your password is changed.');
  expect(onlyError(await signIn(email, 'a long passphrase 1', ip)).extensions).toMatchObject({
    reason: 'INVALID_CREDENTIALS',
  });
  expect((await signIn(email, 'a new passphrase 2', ip)).data?.login.accessToken).toEqual(expect.any(String));

  const reused = await submit(page, ip, { password: 'a third passphrase 4', confirm: 'a third passphrase 4' });
  expect(reused.status).toBe(400);
  expect(text(reused)).toMatch(/This link (has already been used|is not valid)\./);
});

it('escapes what the link carries; a link without its token says so', async () => {
  const ip = '198.51.100.33';
  const hostile = new URL(`${server.url.replace('/graphql', '')}/reset-password`);
  hostile.searchParams.set('token', '"><script>alert(1)</script>');
  const page = await open(hostile, ip);
  expect(page.body).not.toContain('<script>');
  expect(page.body).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  const refused = await submit(page, ip, { password: 'a fine passphrase 5', confirm: 'a fine passphrase 5' });
  expect(refused.status).toBe(400);
  expect(text(refused)).toContain('This link is not valid.');

  const bare = await open(new URL(`${server.url.replace('/graphql', '')}/verify-email`), ip);
  expect(bare.status).toBe(400);
  expect(text(bare)).toContain('The address has no token.');
});

it('the pages spend the rate limit of the mutations they stand for', async () => {
  const ip = '198.51.100.34';
  const page = await open(new URL(`${server.url.replace('/graphql', '')}/verify-email?token=not-a-token`), ip);
  const { max } = server.services.auth.rateLimits.emailVerification.perIp;
  for (let i = 0; i < max; i++) expect((await submit(page, ip)).status).toBe(400);
  const limited = await submit(page, ip);
  expect(limited.status).toBe(429);
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(text(limited)).toContain('Too many attempts from this address.');
  // One budget with the verifyEmail mutation.
  expect(onlyError(await gql(server, M.verifyEmail, { token: 'not-a-token' }, { ip })).extensions).toMatchObject({
    code: 'RATE_LIMITED',
  });
});
