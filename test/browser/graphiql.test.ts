import type { Locator, Page, Request } from 'playwright-core';
import { BROWSER_TEST_TIMEOUT_MS, apiToken, startHarness, type Harness } from './harness';

/**
 * The GraphQL IDE at /graphql (GraphiQL 5 on React 19, built by Vite into web/dist/graphiql) in real Chromium against
 * the real server process: it loads under its Content-Security-Policy with Monaco's editor workers running and no
 * violation, runs a query over HTTP, and runs a subscription over graphql-ws authenticated with the Authorization
 * typed in its headers pane.
 */
jest.setTimeout(BROWSER_TEST_TIMEOUT_MS);

const ADMIN = { email: 'root@example.org', password: 'admin passphrase 1' };
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ admin: ADMIN });
});
afterAll(async () => {
  await h?.close();
});

interface Ide {
  page: Page;
  /** Page errors, console errors and CSP violations, as they happened. */
  problems: string[];
  response: Locator;
}

/** A fresh page on the IDE, recording what went wrong; resolves once the query editor is up. */
async function openIde(query?: string): Promise<Ide> {
  const page = await h.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  await page.exposeFunction('reportViolation', (v: string) => problems.push(`CSP: ${v}`));
  // Added by the driver, which the page's CSP does not govern; the event names what the policy refused.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const w = window as unknown as { reportViolation(v: string): void };
      w.reportViolation(`${e.violatedDirective} refused ${e.blockedURI}`);
    });
  });
  const res = await page.goto(query ? `/graphql?query=${encodeURIComponent(query)}` : '/graphql');
  expect(res?.status()).toBe(200);
  expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
  await page.locator('.graphiql-query-editor .monaco-editor').waitFor();
  return { page, problems, response: page.locator('.graphiql-response') };
}

/** Waits until the locator's text matches (Monaco renders spaces as no-break spaces: `\s` covers both). */
async function waitForText(locator: Locator, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await locator.innerText().catch(() => '');
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Types the token between the quotes of the headers pane's `"Authorization": ""`, as a person would. */
async function typeAuthorization(page: Page, value: string): Promise<void> {
  await page.getByRole('region', { name: 'Headers' }).getByRole('code').click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.insertText(value);
}

const run = (page: Page) => page.getByRole('button', { name: /^Execute query/ }).click();

it('loads under its CSP with the editor workers running, and runs `{ __typename }` over HTTP', async () => {
  const { page, problems, response } = await openIde();
  const posts: Request[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/graphql') posts.push(r);
  });
  // The default document is `query Hello { __typename }` under the comments on how to sign requests.
  await waitForText(page.locator('.graphiql-query-editor'), /query\sHello/);
  await run(page);
  await waitForText(response, /"__typename":\s*"Query"/);
  // The headers pane's empty `"Authorization": ""` is left out, not sent empty.
  const hello = posts.find((r) => r.postData()?.includes('Hello'));
  expect(hello).toBeDefined();
  expect(Object.keys(hello!.headers())).not.toContain('authorization');
  // Monaco's editor, GraphQL and JSON workers come from /graphiql/assets under worker-src 'self' (the
  // GraphQL one starts last, on a busy machine after the answer is shown: waited for, not sampled).
  const graphqlWorker = /^\/graphiql\/assets\/graphql\.worker-[\w-]+\.js$/;
  const workerPaths = () => page.workers().map((w) => new URL(w.url()).pathname);
  // Listening before looking: a worker starting in between is not missed.
  const started = page
    .waitForEvent('worker', { predicate: (w) => graphqlWorker.test(new URL(w.url()).pathname), timeout: 30_000 })
    .catch(() => null);
  if (!workerPaths().some((p) => graphqlWorker.test(p))) await started;
  expect(workerPaths()).toEqual(expect.arrayContaining([expect.stringMatching(graphqlWorker)]));
  expect(problems).toEqual([]);
});

it('sends the Authorization typed in the headers pane over HTTP, and as connectionParams for a subscription', async () => {
  const token = await apiToken(h, ADMIN.email, ADMIN.password);

  const me = await openIde('query Me {\n  me {\n    email\n    role\n  }\n}\n');
  await typeAuthorization(me.page, `Bearer ${token}`);
  await run(me.page);
  await waitForText(me.response, /"email":\s*"root@example\.org"/);
  expect(me.problems).toEqual([]);

  const tick = await openIde('subscription Tick {\n  serverTime\n}\n');
  const sent: string[] = [];
  tick.page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
  await typeAuthorization(tick.page, `Bearer ${token}`);
  await run(tick.page);
  const first = /"serverTime":\s*"([^"]+)"/.exec(await waitForText(tick.response, /"serverTime":\s*"[^"]+"/))![1];
  // The server ticks once a second: a later value in the pane shows the subscription streaming.
  await waitForText(tick.response, new RegExp(`"serverTime":\\s*"(?!${first!.replace(/[.]/g, '\\.')}")`));
  const init = sent.map((f) => JSON.parse(f)).find((m) => m.type === 'connection_init');
  expect(init).toEqual({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  expect(sent.map((f) => JSON.parse(f).type)).toContain('subscribe');
  expect(tick.problems).toEqual([]);
});
