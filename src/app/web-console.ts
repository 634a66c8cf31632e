import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response } from 'express';
import { rebuiltFile } from '../infra/http/rebuilt-file';

/**
 * The web console (web/, built by `npm run build:web` into web/dist) served at `/`:
 * - /assets/*: Vite's content-hashed files, cached for a year as immutable;
 * - any other GET/HEAD that asks for HTML and is not an API path: index.html (the single-page app routes it),
 *   `no-cache` so a new build is picked up at once, with a strict Content-Security-Policy;
 * - /verify-email and /reset-password (the mailed links) go to the app too, except for clients that do not
 *   ask for HTML or that come back with `plain=1` (what the page's <noscript> redirect adds): those reach the
 *   account pages' plain forms, which work without JavaScript.
 * Without a build, `/` answers one line saying how to make it; nothing else changes.
 */

/** The console's CSP: its own scripts and styles only (no inline code), images also as data:/blob: URLs. */
export const WEB_CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  // 'self' covers same-origin WebSocket (graphql-ws on /graphql) in current browsers.
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** First path segments that belong to the API and its files: never answered with the app. */
export const API_PREFIXES = [
  'graphql',
  'graphiql',
  'files',
  'healthz',
  'readyz',
  'metrics',
  '.well-known',
  'api',
  'assets',
] as const;

/** The mailed links' pages (src/modules/accounts/pages): the app's when it is built and the client takes HTML. */
export const ACCOUNT_LINK_PATHS = ['/verify-email', '/reset-password'] as const;

export interface WebConsoleOptions {
  /** The built app (web/dist). */
  distDir: string;
  logger?: { warn(obj: object, msg?: string): void };
}

/** web/dist of this repository: walks up from this file (src/app under Jest, dist/src/app when built). */
export function defaultWebDistDir(start = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'web', 'index.html')) || existsSync(path.join(dir, 'web', 'dist'))) {
      return path.join(dir, 'web', 'dist');
    }
    if (path.dirname(dir) === dir) return path.resolve(start, '..', '..', 'web', 'dist');
  }
}

function isApiPath(p: string): boolean {
  const first = p.split('/')[1] ?? '';
  return (API_PREFIXES as readonly string[]).includes(first);
}

/** A browser navigation asks for text/html explicitly; fetch() and curl send `*\/*` and get the API's answers. */
function wantsHtml(req: Request): boolean {
  return /\btext\/html\b/i.test(String(req.headers.accept ?? ''));
}

/** A path ending in a static file's extension names a file: a miss is a 404, not the app (app ids may hold dots). */
function looksLikeFile(p: string): boolean {
  return /\.(js|mjs|css|map|json|txt|xml|ico|png|jpe?g|gif|svg|webp|avif|woff2?|ttf|webmanifest|html?)$/i.test(p);
}

const escapeAttr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function sendIndex(res: Response, html: string): void {
  res.set({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy': WEB_CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  });
  res.status(200).send(html);
}

/**
 * For a mailed link's page: without JavaScript, the <noscript> refresh takes the browser to the same link with
 * `plain=1`, which the account pages answer with their no-script form (the token travels along).
 */
function withNoscriptFallback(html: string, req: Request): string {
  const query = new URLSearchParams();
  const token = typeof req.query.token === 'string' ? req.query.token : '';
  if (token) query.set('token', token);
  query.set('plain', '1');
  const url = escapeAttr(`${req.path}?${query.toString()}`);
  return html.replace('</head>', `<noscript><meta http-equiv="refresh" content="0; url=${url}"></noscript></head>`);
}

export function webConsoleRouter(opts: WebConsoleOptions): express.Router {
  const router = express.Router();
  const distDir = path.resolve(opts.distDir);
  // Re-read when a new build replaces it (the server may outlive a `npm run build:web`).
  const loadIndex = rebuiltFile(path.join(distDir, 'index.html'), (html) => html);
  if (!loadIndex()) {
    opts.logger?.warn({ distDir }, 'web console not built: `npm run build:web` builds it (the API works without it)');
  }

  // Hashed names change with their content, so a browser may keep each one for good.
  router.use(
    '/assets',
    express.static(path.join(distDir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
      redirect: false,
      fallthrough: true,
    }),
  );

  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const p = req.path;
    // `/` is the console's address for any client (curl too); deeper paths only for navigations asking for HTML.
    if (isApiPath(p) || looksLikeFile(p) || (p !== '/' && !wantsHtml(req))) return next();
    const isAccountLink = (ACCOUNT_LINK_PATHS as readonly string[]).includes(p);
    if (isAccountLink && req.query.plain === '1') return next();
    const html = loadIndex();
    if (!html) {
      // The account pages still serve the mailed links; other pages say how to build the console.
      if (isAccountLink) return next();
      res
        .status(503)
        .set({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
        .send('The web console is not built: run `npm run build` (or `npm run build:web`) and restart the server.\n');
      return;
    }
    sendIndex(res, isAccountLink ? withNoscriptFallback(html, req) : html);
  });

  return router;
}
