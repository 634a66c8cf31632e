import { Router, type Request, type Response, type NextFunction } from 'express';
import { gzippedAsset, loadGraphiqlAssets, type GraphiqlAsset } from './graphiql/assets';
import { renderGraphiqlPage } from './graphiql/page';

export interface GraphiqlRouterOptions {
  /** Path of the GraphQL HTTP endpoint, e.g. `/graphql`. The IDE is served on GET of this path. */
  endpoint: string;
  /** graphql-ws endpoint: a path (`/graphql`, same host) or an absolute ws:// or wss:// URL. */
  subscriptionEndpoint: string;
  title?: string;
}

/** Where the IDE's scripts and styles are served, relative to the router's mount point. */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/assets';

const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

/** Content types a GraphQL endpoint answers on GET; the IDE is served only when HTML wins over them. */
const GRAPHQL_TYPES = ['application/graphql-response+json', 'application/json'];

const DEFAULT_HEADERS = '{\n  "Authorization": ""\n}';

function defaultQuery(title: string): string {
  return [
    `# ${title}`,
    '#',
    '# Put your access token in the Headers pane below:',
    '#   { "Authorization": "Bearer <access token>" }',
    '# Queries and mutations go over HTTP with those headers',
    '# (empty ones are left out). Subscriptions go over',
    '# graphql-ws with connectionParams { authorization }',
    '# taken from the same header.',
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
 * The page's Content-Security-Policy. Inline styles stay allowed because GraphiQL's components set
 * style attributes; scripts come only from this origin. An absolute subscription URL on another
 * host is added to connect-src (same-origin ws:/wss: is covered by 'self').
 */
export function graphiqlContentSecurityPolicy(subscriptionEndpoint: string): string {
  const connect = ["'self'"];
  if (!subscriptionEndpoint.startsWith('/')) connect.push(new URL(subscriptionEndpoint).origin.replace(/^http/, 'ws'));
  return [
    "default-src 'self'",
    "script-src 'self'",
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
 * Express 5 router serving a self-hosted GraphiQL 3 IDE: `GET <endpoint>` with an Accept header
 * that prefers text/html gets the page, every other request on that path falls through (`next()`)
 * to the GraphQL middleware, so mount this router before it. Assets are served from installed
 * npm packages (graphiql, react, react-dom, graphql-ws) and assets/graphiql/ under
 * `/graphiql/assets/*`; nothing is fetched from a CDN.
 */
export function graphiqlRouter(opts: GraphiqlRouterOptions): Router {
  validateOptions(opts);
  const title = opts.title ?? 'Dermagraph GraphQL IDE';
  const assets = loadGraphiqlAssets();
  const csp = graphiqlContentSecurityPolicy(opts.subscriptionEndpoint);
  const router = Router();

  const assetUrl = (baseUrl: string, asset: GraphiqlAsset) =>
    `${baseUrl}${GRAPHIQL_ASSETS_PATH}/${asset.name}?v=${asset.version}`;
  const ofKind = (kind: GraphiqlAsset['kind']) => [...assets.values()].filter((a) => a.kind === kind);

  router.get(opts.endpoint, (req: Request, res: Response, next: NextFunction) => {
    if (!prefersHtml(req)) return next();
    // req.baseUrl keeps links right when the app is mounted under a prefix (app.use('/api', ...)).
    const base = req.baseUrl;
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
      stylesheets: ofKind('style').map((a) => assetUrl(base, a)),
      scripts: ofKind('script').map((a) => assetUrl(base, a)),
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
      const asset = assets.get(req.params.name);
      if (!asset) {
        res.status(404).type('text/plain').send(`GRAPHIQL_ASSET_NOT_FOUND: ${req.params.name}`);
        return;
      }
      // A link with the current fingerprint can be cached for good; anything else revalidates (ETag).
      const pinned = req.query.v === asset.version;
      res.set({
        'Content-Type': asset.contentType,
        'Cache-Control': pinned ? `public, max-age=${ONE_YEAR_SECONDS}, immutable` : 'public, no-cache',
        'X-Content-Type-Options': 'nosniff',
      });
      // Source maps are for devtools only: sent as they are.
      if (asset.kind !== 'map') {
        res.vary('Accept-Encoding');
        if (req.acceptsEncodings('gzip', 'identity') === 'gzip') {
          const body = await gzippedAsset(asset);
          // res.send sets Content-Length and an ETag and answers 304 to a matching If-None-Match.
          res.set('Content-Encoding', 'gzip').send(body);
          return;
        }
      }
      res.sendFile(asset.absolutePath, { cacheControl: false, dotfiles: 'deny' }, (err) => {
        if (err && !res.headersSent) next(err);
      });
    },
  );

  return router;
}
