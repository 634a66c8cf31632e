import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { startTestServer, type TestServer } from '../support/server';
import { WEB_CONSOLE_CSP, webConsoleRouter } from '../../src/app/web-console';

/**
 * Issue [11]: the server serves the built console at `/`: hashed assets cached for good, index.html never
 * cached and under a strict CSP, the app's routes answered with index.html, and no API path shadowed.
 * A real server (the test server, real PostgreSQL and Redis) with a small stand-in build in a temporary dist.
 */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const INDEX = `<!doctype html><html lang="en"><head><title>Dermagraph</title>
<script type="module" crossorigin src="/assets/index-Ab12Cd34.js"></script></head>
<body><div id="root"></div><p>console-index-marker</p></body></html>`;

let server: TestServer;
let base: string;
let dist: string;

beforeAll(async () => {
  dist = await fs.mkdtemp(path.join(os.tmpdir(), 'dg-web-dist-'));
  await fs.mkdir(path.join(dist, 'assets'));
  await fs.writeFile(path.join(dist, 'index.html'), INDEX);
  await fs.writeFile(path.join(dist, 'assets', 'index-Ab12Cd34.js'), 'console.log("app");\n');
  // GraphiQL's build beside it (web/dist/graphiql): Vite's manifest and the entry it names.
  await fs.mkdir(path.join(dist, 'graphiql', 'assets'), { recursive: true });
  await fs.mkdir(path.join(dist, 'graphiql', '.vite'));
  await fs.writeFile(path.join(dist, 'graphiql', 'assets', 'graphiql-Ef56.js'), 'console.log("ide");\n');
  await fs.writeFile(
    path.join(dist, 'graphiql', '.vite', 'manifest.json'),
    JSON.stringify({ 'main.tsx': { file: 'assets/graphiql-Ef56.js', isEntry: true } }),
  );
  server = await startTestServer({ webDistDir: dist });
  base = server.url.replace(/\/graphql$/, '');
});
afterAll(async () => {
  await server?.close();
  await fs.rm(dist, { recursive: true, force: true });
});

const browse = (p: string, init: RequestInit = {}) =>
  fetch(`${base}${p}`, { ...init, headers: { accept: BROWSER_ACCEPT, ...(init.headers ?? {}) } });

it('serves index.html at / with no-cache and the strict CSP, to browsers and to curl alike', async () => {
  for (const accept of [BROWSER_ACCEPT, '*/*']) {
    const res = await fetch(`${base}/`, { headers: { accept } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toBe(WEB_CONSOLE_CSP);
    expect(await res.text()).toContain('console-index-marker');
  }
  const csp = WEB_CONSOLE_CSP.split('; ');
  expect(csp).toEqual(
    expect.arrayContaining([
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
    ]),
  );
  expect(WEB_CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
});

it('serves hashed assets as immutable for a year; a missing asset is a 404, never the app', async () => {
  const asset = await browse('/assets/index-Ab12Cd34.js');
  expect(asset.status).toBe(200);
  expect(asset.headers.get('content-type')).toMatch(/javascript/);
  expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect(await asset.text()).toContain('console.log("app")');

  const missing = await browse('/assets/index-Gone0000.js');
  expect(missing.status).toBe(404);
  expect(await missing.text()).not.toContain('console-index-marker');
});

it("answers the app's deep links with index.html (SPA fallback) when the browser asks for HTML", async () => {
  for (const p of [
    '/patients',
    '/patients/UGF0aWVudDox',
    '/admin/models?tab=versions',
    '/admin/users/someone@example.org',
    '/sign-in',
    '/security',
  ]) {
    const res = await browse(p);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(WEB_CONSOLE_CSP);
    expect(await res.text()).toContain('console-index-marker');
  }
  // A file-like path that does not exist, or a non-HTML request, is the API's JSON 404.
  for (const [p, accept] of [
    ['/robots.txt', BROWSER_ACCEPT],
    ['/patients', 'application/json'],
  ]) {
    const res = await fetch(`${base}${p}`, { headers: { accept } });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('console-index-marker');
  }
  const post = await browse('/patients', { method: 'POST' });
  expect(post.status).toBe(404);
});

it('never shadows the API: /graphql (GraphiQL and queries), /healthz, /readyz, /metrics, /.well-known, /files', async () => {
  const ide = await browse('/graphql');
  expect(ide.status).toBe(200);
  const ideHtml = await ide.text();
  expect(ideHtml).not.toContain('console-index-marker');
  expect(ideHtml).toContain('<script type="module" src="/graphiql/assets/graphiql-Ef56.js"></script>');
  const ideScript = await browse('/graphiql/assets/graphiql-Ef56.js');
  expect(ideScript.status).toBe(200);
  expect(await ideScript.text()).toContain('console.log("ide")');

  const query = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: BROWSER_ACCEPT },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  expect(await query.json()).toEqual({ data: { __typename: 'Query' } });

  for (const p of ['/healthz', '/readyz', '/.well-known/jwks.json']) {
    const res = await browse(p);
    expect([p, res.status]).toEqual([p, 200]);
    expect(await res.text()).not.toContain('console-index-marker');
  }
  for (const p of ['/metrics', '/files/images/abc/thumb?exp=1&sig=x', '/graphiql/assets/none.js', '/api/anything']) {
    const res = await browse(p);
    expect(await res.text()).not.toContain('console-index-marker');
  }
});

it('opens the mailed links in the app for browsers; fetch, curl and `plain=1` (the no-script redirect) get the forms', async () => {
  const app = await browse('/verify-email?token=abc.def');
  expect(app.status).toBe(200);
  const html = await app.text();
  expect(html).toContain('console-index-marker');
  // Without JavaScript, the page sends the browser on to the plain form with the same token.
  expect(html).toContain(
    '<noscript><meta http-equiv="refresh" content="0; url=/verify-email?token=abc.def&amp;plain=1"></noscript>',
  );
  const hostile = await (await browse('/reset-password?token=%22%3E%3Cscript%3Ex%3C%2Fscript%3E')).text();
  expect(hostile).not.toContain('<script>x');
  expect(hostile).toContain('url=/reset-password?token=%22%3E%3Cscript%3Ex%3C%2Fscript%3E&amp;plain=1');

  for (const [p, accept] of [
    ['/verify-email?token=abc.def', '*/*'],
    ['/verify-email?token=abc.def&plain=1', BROWSER_ACCEPT],
    ['/reset-password?token=abc.def&plain=1', BROWSER_ACCEPT],
  ]) {
    const res = await fetch(`${base}${p}`, { headers: { accept } });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).not.toContain('console-index-marker');
    expect(body).toMatch(/<form method="post" action="(verify-email|reset-password)">/);
  }
  // The forms still post to the account pages (a bad token: refused in words, not the app).
  const posted = await browse('/verify-email', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'token=not-a-token',
  });
  expect(posted.status).toBe(400);
  expect(await posted.text()).not.toContain('console-index-marker');
});

describe('without a build', () => {
  let bare: Server;
  let bareBase: string;

  beforeAll(async () => {
    const app = express();
    const missing = path.join(os.tmpdir(), 'dg-web-dist-missing', String(process.pid));
    app.use(webConsoleRouter({ distDir: missing }));
    app.use((req, res) => void res.status(404).json({ fellThrough: req.path }));
    await new Promise<void>((resolve) => {
      bare = app.listen(0, '127.0.0.1', () => resolve());
    });
    bareBase = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => bare.close(() => resolve())));

  it('says in one line how to build the console, and leaves the mailed links to the account pages', async () => {
    const res = await fetch(`${bareBase}/`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(text).toContain('npm run build');

    const link = await fetch(`${bareBase}/verify-email?token=x`, { headers: { accept: BROWSER_ACCEPT } });
    expect(await link.json()).toEqual({ fellThrough: '/verify-email' });
    const api = await fetch(`${bareBase}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
    expect(await api.json()).toEqual({ fellThrough: '/graphql' });
  });
});
