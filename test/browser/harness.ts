import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { linkIn, startSmtpCapture } from '../auth/smtp-capture';
import { seedEmbeddedDatabase } from '../support/embedded-template';
import { eventually } from '../support/poll';

/**
 * Browser tests of the web console: the real server process (`node dist/src/cli.js serve`, embedded defaults:
 * PGlite, seeded with the run's migrated database, and in-memory queues in a fresh DATA_DIR, a free port),
 * Debian's Chromium driven by playwright-core (no browser download), and the server's mail caught by a real
 * SMTP server so the tests follow the mailed links.
 * One harness per test file (the server takes seconds to start); close() stops everything it started, by PID.
 * Needs `npm run build` (dist/ and web/dist), which `npm test` runs first.
 */

const ROOT = path.resolve(__dirname, '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** Generous: the first page load compiles nothing but does start a cold server's lazy parts. */
export const BROWSER_TEST_TIMEOUT_MS = 180_000;

export type SmtpCapture = Awaited<ReturnType<typeof startSmtpCapture>>;

export interface HarnessOptions {
  /** Extra environment for the server. */
  env?: Record<string, string>;
  /** Creates this ADMIN account (verified) with `dermagraph create-admin` before the server starts. */
  admin?: { email: string; password: string };
}

export interface Harness {
  /** http://127.0.0.1:PORT (no trailing slash). */
  baseUrl: string;
  browser: Browser;
  context: BrowserContext;
  /** A page of `context`, opened on nothing yet. */
  page: Page;
  mail: SmtpCapture;
  dataDir: string;
  /** Everything the server printed so far (pino JSON lines). */
  serverLog(): string;
  /** A fresh, isolated browser context (another person's session) with one page. */
  newPage(): Promise<Page>;
  /** POSTs one GraphQL operation to the server (setup steps that are not under test). */
  gql<T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }>;
  close(): Promise<void>;
}

function requireBuild(): void {
  const missing = ['dist/src/cli.js', 'web/dist/index.html'].filter((f) => !existsSync(path.join(ROOT, f)));
  if (missing.length > 0) throw new Error(`browser tests need \`npm run build\` first (missing ${missing.join(', ')})`);
  if (!existsSync(CHROMIUM)) throw new Error(`browser tests need Chromium at ${CHROMIUM} (apt-get install chromium)`);
}

/** The server's environment: embedded defaults, nothing from the developer's shell or .env that could change them. */
function serverEnv(dataDir: string, smtpUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'HOST', 'PUBLIC_URL', 'URL_SIGNING_SECRET', 'TOTP_ENCRYPTION_KEY']) {
    delete env[k];
  }
  delete env.NODE_ENV; // as `npm start` runs it (Jest sets test)
  return {
    ...env,
    DOTENV_PATH: '/dev/null',
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'info',
    SMTP_URL: smtpUrl,
    ...extra,
  };
}

/** Starts the server; resolves with its URL once it logs "dermagraph ready". */
function startServerProcess(env: NodeJS.ProcessEnv, logs: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in 120 s:\n${logs.join('')}`)), 120_000);
    let pending = '';
    const onData = (b: Buffer) => {
      logs.push(b.toString());
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('dermagraph ready')) continue;
        try {
          const url = (JSON.parse(line) as { url: string }).url;
          clearTimeout(timer);
          resolve({ child, url: url.replace('localhost', '127.0.0.1').replace(/\/graphql$/, '') });
        } catch {
          // not the JSON line; keep reading
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready:\n${logs.join('')}`));
    });
  });
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  requireBuild();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-browser-'));
  const mail = await startSmtpCapture();
  const logs: string[] = [];
  let child: ChildProcess | undefined;
  let browser: Browser | undefined;
  try {
    // The first admin as a deployment makes it (ADMIN_EMAIL and ADMIN_PASSWORD at start): one embedded database
    // start per suite instead of two (`create-admin` first); the command itself has its own tests.
    const admin: Record<string, string> = opts.admin
      ? { ADMIN_EMAIL: opts.admin.email, ADMIN_PASSWORD: opts.admin.password }
      : {};
    await seedEmbeddedDatabase(dataDir); // the pages' tests are not about the database's first start
    const env = serverEnv(dataDir, mail.url, { ...admin, ...opts.env });
    // Chromium starts while the server does.
    const launching = chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const started = await startServerProcess(env, logs).catch(async (e: unknown) => {
      await launching.then((b) => b.close()).catch(() => undefined);
      throw e;
    });
    child = started.child;
    const baseUrl = started.url;
    browser = await launching;
    const newContext = () => browser!.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 860 } });
    const context = await newContext();
    const page = await context.newPage();
    const contexts = [context];
    return {
      baseUrl,
      browser,
      context,
      page,
      mail,
      dataDir,
      serverLog: () => logs.join(''),
      async newPage() {
        const c = await newContext();
        contexts.push(c);
        return c.newPage();
      },
      async gql(query, variables, token) {
        const res = await fetch(`${baseUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
        });
        return (await res.json()) as never;
      },
      async close() {
        for (const c of contexts) await c.close().catch(() => undefined);
        await browser?.close().catch(() => undefined);
        await stopProcess(child);
        await mail.close();
        await fs.rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await browser?.close().catch(() => undefined);
    await stopProcess(child);
    await mail.close();
    await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** The link in the newest mail to `to` that arrived after `before` messages (mail.messages.length before the action). */
export async function mailedLink(h: Harness, to: string, before: number): Promise<URL> {
  const link = linkIn((await h.mail.waitFor(to, before, 30_000)).text);
  // PUBLIC_URL follows the port the server listens on; the host may read `localhost`.
  return new URL(`${link.pathname}${link.search}`, h.baseUrl);
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is (WCAG 2.x A/AA and best practices) and returns the serious and critical
 * violations, each with the selectors of the nodes at fault. axe is injected as a script element's text by the
 * driver (CDP), which the page's CSP does not govern.
 */
export async function axe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: any[] }> } };
    const r = await w.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id as string,
      impact: (v.impact ?? null) as string | null,
      help: v.help as string,
      nodes: (v.nodes as { target: string[] }[]).map((n) => n.target.join(' ')),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Fails, naming the page, on any serious or critical axe violation (axe()). */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  expect([what, await axe(page)]).toEqual([what, []]);
}

/**
 * Collects the page's uncaught exceptions, console errors and warnings into `errors` (a CSP refusal of a lazy chunk
 * or a style, React's or the router's complaints would show here). HTTP refusals the pages show in words (e.g. a 400
 * for a bad filter) are logged by Chromium too: not errors here.
 */
export function watchConsole(page: Page, errors: string[]): void {
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !m.text().startsWith('Failed to load resource'))
      errors.push(`${m.type()}: ${m.text()}`);
  });
}

/** docs/screenshots/<name>.png of the page, only when WRITE_SCREENSHOTS=1 (the committed ones are made that way). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.WRITE_SCREENSHOTS !== '1') return;
  const dir = path.join(ROOT, 'docs', 'screenshots');
  await fs.mkdir(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/**
 * A verified account made through the API (register, the mailed token, verifyEmail), for tests whose subject is
 * another page. `role` other than CLINICIAN needs an admin's token (startHarness({ admin })).
 */
export async function createUser(
  h: Harness,
  input: { email: string; password: string; name?: string; role?: 'CLINICIAN' | 'RESEARCHER' | 'ADMIN' },
  adminToken?: string,
): Promise<{ id: string }> {
  const before = h.mail.messages.length;
  const reg = await h.gql<{ register: { id: string } }>(
    'mutation($input: RegisterInput!) { register(input: $input) { id } }',
    { input: { email: input.email, password: input.password, name: input.name } },
  );
  if (!reg.data) throw new Error(`register failed: ${JSON.stringify(reg.errors)}`);
  const token = (await mailedLink(h, input.email, before)).searchParams.get('token');
  const verified = await h.gql('mutation($t: String!) { verifyEmail(token: $t) { id } }', { t: token });
  if (verified.errors) throw new Error(`verifyEmail failed: ${JSON.stringify(verified.errors)}`);
  if (input.role && input.role !== 'CLINICIAN') {
    if (!adminToken) throw new Error(`createUser: role ${input.role} needs an admin token`);
    const set = await h.gql(
      'mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { id } }',
      { id: reg.data.register.id, role: input.role },
      adminToken,
    );
    if (set.errors) throw new Error(`setUserRole failed: ${JSON.stringify(set.errors)}`);
  }
  return reg.data.register;
}

/** An access token through the API (accounts without 2FA). */
export async function apiToken(h: Harness, email: string, password: string): Promise<string> {
  const r = await h.gql<{ login: { accessToken: string } }>(
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    { e: email, p: password },
  );
  if (!r.data?.login.accessToken) throw new Error(`login failed: ${JSON.stringify(r.errors)}`);
  return r.data.login.accessToken;
}

/** Signs in through the console's sign-in page (accounts without 2FA) and waits for the dashboard. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}

/**
 * Playwright's web-first assertions, without @playwright/test: each waits (up to 15 s) until the page agrees,
 * so a test never races the page's own requests.
 */
export function see(locator: Locator) {
  const until = (check: () => Promise<boolean>, what: string) =>
    eventually(() => check().catch(() => false), { every: 100, what: `${locator} ${what}` });
  return {
    toBeVisible: () => until(() => locator.isVisible(), 'to be visible'),
    toHaveAttribute: (name: string, value: string) =>
      until(async () => (await locator.getAttribute(name)) === value, `to have ${name}="${value}"`),
    toHaveCount: (n: number) => until(async () => (await locator.count()) === n, `to count ${n}`),
    toContainText: (text: string) => until(async () => (await locator.innerText()).includes(text), `to say "${text}"`),
  };
}
