import type { WebSocket } from 'playwright-core';
import { eventually } from '../support/poll';
import { BROWSER_TEST_TIMEOUT_MS, signIn, startHarness, type Harness } from './harness';

/**
 * Issue [11], "sessions refresh silently", for live pages: the server closes a graphql-ws socket when the access
 * token it was opened with expires (close code 4401, which graphql-ws treats as final). The console refreshes the
 * session and subscribes again on a new socket, so a page left open keeps its live events. Access tokens last the
 * shortest time the server allows (60 s) so the test sees one expiry.
 */
jest.setTimeout(BROWSER_TEST_TIMEOUT_MS);

const ADMIN = { email: 'root@example.org', password: 'admin passphrase 1' };
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ admin: ADMIN, env: { JWT_ACCESS_TTL_SECONDS: '60' } });
});
afterAll(async () => {
  await h?.close();
});

it('a live page subscribes again on a new socket when the server closes the old one for an expired token', async () => {
  const { page } = h;
  const sockets: WebSocket[] = [];
  const subscribed: string[][] = [];
  page.on('websocket', (ws) => {
    const frames: string[] = [];
    sockets.push(ws);
    subscribed.push(frames);
    ws.on('framesent', (f) => {
      if (typeof f.payload === 'string' && f.payload.includes('"subscribe"')) frames.push(f.payload);
    });
  });
  await signIn(page, ADMIN.email, ADMIN.password);
  // The models page follows modelRegistryEvents over graphql-ws.
  await page.goto('/admin/models');
  await eventually(() => sockets.length >= 1, { ms: 30_000, what: 'a socket' });
  const first = sockets[0];
  await eventually(() => subscribed[0]?.some((f) => f.includes('modelRegistryEvents')), {
    ms: 30_000,
    what: 'the first subscribe',
  });

  // The token the socket was opened with expires within 60 s; the server closes the socket then.
  await new Promise<void>((resolve) => (first.isClosed() ? resolve() : first.once('close', () => resolve())));
  await eventually(() => sockets.length >= 2, { ms: 30_000, what: 'a second socket' });
  await eventually(() => subscribed[1]?.some((f) => f.includes('modelRegistryEvents')), {
    ms: 30_000,
    what: 'the second subscribe',
  });
  expect(sockets[1].isClosed()).toBe(false);
  // Still signed in, on the same page.
  expect(new URL(page.url()).pathname).toBe('/admin/models');
});
