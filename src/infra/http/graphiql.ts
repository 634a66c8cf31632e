import { existsSync } from 'node:fs';
import path from 'node:path';
import { Router, type Request, type Response, type NextFunction } from 'express';
import {
  assetContentType,
  defaultGraphiqlDistDir,
  graphiqlBuildLoader,
  gzippedAsset,
  isAssetName,
} from './graphiql/build';
import { renderGraphiqlPage } from './graphiql/page';

export interface GraphiqlRouterOptions {
  /** Path of the GraphQL HTTP endpoint, e.g. `/graphql`. The IDE is served on GET of this path. */
  endpoint: string;
  /** graphql-ws endpoint: a path (`/graphql`, same host) or an absolute ws:// or wss:// URL. */
  subscriptionEndpoint: string;
  title?: string;
  /** The IDE's Vite build (web/dist/graphiql, made by `npm run build:web`). */
  distDir?: string;
  logger?: { warn(obj: object, msg?: string): void };
}

/** Where the IDE's scripts and styles are served, relative to the router's mount point. */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/assets';

const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

/** Content types a GraphQL endpoint answers on GET; the IDE is served only when HTML wins over them. */
const GRAPHQL_TYPES = ['application/graphql-response+json', 'application/json'];

const NOT_BUILT =
  'The GraphQL IDE is not built: run `npm run build` (or `npm run build:web`); the server picks it up without a restart.\n' +
  'The API itself answers GraphQL POSTs on this path.\n';

const DEFAULT_HEADERS = '{\n  "Authorization": ""\n}';

function defaultQuery(title: string): string {
  return [
    `# ${title}`,
    '#',
    // Short lines: the editor shows about 50 columns beside its toolbar on a laptop screen.
    '# Put your access token in the Headers pane:',
    '#   { "Authorization": "Bearer <access token>" }',
    '# Queries and mutations go over HTTP with',
    '# those headers (empty ones are left out).',
    '# Subscriptions go over graphql-ws, with',
    '# connectionParams { authorization } taken',
    '# from the same header.',
    '#',
    '# Ctrl-Enter runs, Ctrl-Space completes,',
    '# the book icon opens the schema docs.',
    '',
    'query Hello {',
    '  __typename',
    '}',
    '',
  ].join('\n');
}

function validateOptions(opts: GraphiqlRouterOptions): void {
  if (typeof opts.endpoint !== 'string' || !opts.endpoint.startsWith('/')) {
    throw new Error(
      `GRAPHIQL_BAD_OPTIONS: endpoint must be a path starting with "/", got ${JSON.stringify(opts.endpoint)}`,
    );
  }
  const sub = opts.subscriptionEndpoint;
  if (typeof sub !== 'string' || !(sub.startsWith('/') || /^wss?:\/\/[^/]/i.test(sub))) {
    throw new Error(
      `GRAPHIQL_BAD_OPTIONS: subscriptionEndpoint must be a path starting with "/" or a ws:// or wss:// URL, got ${JSON.stringify(sub)}`,
    );
  }
}

/**
 * The page's Content-Security-Policy. Scripts, and Monaco's editor workers, come only from this origin. Inline styles
 * stay allowed because Monaco adds <style> elements and GraphiQL's components set style attributes; GraphiQL's
 * stylesheet carries its icon fonts as data: URLs. An absolute subscription URL on another host is added to
 * connect-src (same-origin ws:/wss: is covered by 'self').
 */
export function graphiqlContentSecurityPolicy(subscriptionEndpoint: string): string {
  const connect = ["'self'"];
  if (!subscriptionEndpoint.startsWith('/')) connect.push(new URL(subscriptionEndpoint).origin.replace(/^http/, 'ws'));
  return [
    "default-src 'self'",
    "script-src 'self'",
    "worker-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${connect.join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

/** True when the client (a browser) prefers HTML over the GraphQL response types. */
export function prefersHtml(req: Request): boolean {
  return req.accepts([...GRAPHQL_TYPES, 'text/html']) === 'text/html';
}

/**
 * Express 5 router serving the self-hosted GraphiQL 5 IDE: `GET <endpoint>` with an Accept header that prefers
 * text/html gets the page, every other request on that path falls through (`next()`) to the GraphQL middleware, so
 * mount this router before it. The page's scripts and styles are the Vite build's (web/dist/graphiql), served under
 * `/graphiql/assets/*`; nothing is fetched from a CDN. Without a build the page says how to make one.
 */
export function graphiqlRouter(opts: GraphiqlRouterOptions): Router {
  validateOptions(opts);
  const title = opts.title ?? 'Dermagraph GraphQL IDE';
  const distDir = path.resolve(opts.distDir ?? defaultGraphiqlDistDir());
  const assetsDir = path.join(distDir, 'assets');
  const loadBuild = graphiqlBuildLoader(distDir);
  if (!loadBuild()) {
    opts.logger?.warn({ distDir }, 'GraphiQL not built: `npm run build:web` builds it (the API works without it)');
  }
  const csp = graphiqlContentSecurityPolicy(opts.subscriptionEndpoint);
  const router = Router();

  router.get(opts.endpoint, (req: Request, res: Response, next: NextFunction) => {
    if (!prefersHtml(req)) return next();
    const build = loadBuild();
    if (!build) {
      res.status(503).set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).send(NOT_BUILT);
      return;
    }
    // req.baseUrl keeps links right when the app is mounted under a prefix (app.use('/api', ...)).
    const base = req.baseUrl;
    const assetUrl = (name: string) => `${base}${GRAPHIQL_ASSETS_PATH}/${name}`;
    const html = renderGraphiqlPage({
      title,
      config: {
        endpoint: `${base}${opts.endpoint}`,
        subscriptionEndpoint: opts.subscriptionEndpoint.startsWith('/')
          ? `${base}${opts.subscriptionEndpoint}`
          : opts.subscriptionEndpoint,
        defaultQuery: defaultQuery(title),
        defaultHeaders: DEFAULT_HEADERS,
      },
      stylesheets: build.styles.map(assetUrl),
      script: assetUrl(build.script),
      preloads: build.preloads.map(assetUrl),
    });
    res
      .status(200)
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-cache',
        // The same URL answers JSON to GraphQL clients: caches must key on Accept.
        Vary: 'Accept',
        'Content-Security-Policy': csp,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      })
      .send(html);
  });

  router.get(
    `${GRAPHIQL_ASSETS_PATH}/:name`,
    async (req: Request<{ name: string }>, res: Response, next: NextFunction) => {
      const { name } = req.params;
      const contentType = isAssetName(name) ? assetContentType(name) : undefined;
      const file = path.join(assetsDir, name);
      if (!contentType || !existsSync(file)) {
        res.status(404).type('text/plain').send(`GRAPHIQL_ASSET_NOT_FOUND: ${name}`);
        return;
      }
      // Vite names every file after its content: a name is never reused for other bytes.
      res.set({
        'Content-Type': contentType,
        'Cache-Control': `public, max-age=${ONE_YEAR_SECONDS}, immutable`,
        'X-Content-Type-Options': 'nosniff',
      });
      res.vary('Accept-Encoding');
      if (req.acceptsEncodings('gzip', 'identity') === 'gzip') {
        try {
          // res.send sets Content-Length and an ETag and answers 304 to a matching If-None-Match.
          res.set('Content-Encoding', 'gzip').send(await gzippedAsset(file));
        } catch (err) {
          res.removeHeader('Content-Encoding');
          next(err);
        }
        return;
      }
      res.sendFile(file, { cacheControl: false, dotfiles: 'deny' }, (err) => {
        if (err && !res.headersSent) next(err);
      });
    },
  );

  return router;
}
