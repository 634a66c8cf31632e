import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { get, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import express from 'express';
import { graphiqlContentSecurityPolicy, graphiqlRouter } from './graphiql';
import { findRepoAssetsDir } from './graphiql/assets';
import { escapeHtml, jsonForScriptBlock } from './graphiql/page';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

/** A tiny app: the IDE router first, then a stand-in GraphQL handler that proves fall-through. */
function startApp(mount = '/'): Promise<{ server: Server; base: string }> {
  const app = express();
  const api = express.Router();
  api.use(graphiqlRouter({ endpoint: '/graphql', subscriptionEndpoint: '/graphql', title: 'Test <IDE>' }));
  api.all('/graphql', (_req, res) => {
    res.json({ data: { fellThrough: true } });
  });
  app.use(mount, api);
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, base: `http://127.0.0.1:${port}` });
    });
  });
}

/** A raw GET (fetch would decompress and hide Content-Encoding): status, headers and body bytes. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ res: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function stopApp(server: Server): Promise<void> {
  // fetch keeps connections alive; close them so the suite does not wait for their timeout.
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** `src` of every <script src>, or `href` of every stylesheet <link>. */
function attributeValues(html: string, tag: 'script' | 'link', attribute: 'src' | 'href'): string[] {
  const rel = tag === 'link' ? 'rel="stylesheet"[^>]*' : '';
  const pattern = new RegExp(`<${tag}\\b[^>]*${rel}\\b${attribute}="([^"]+)"`, 'g');
  return [...html.matchAll(pattern)].map((m) => m[1]!.replace(/&amp;/g, '&'));
}

describe('graphiqlRouter', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    ({ server, base } = await startApp());
  });
  afterAll(async () => {
    await stopApp(server);
  });

  it('serves the IDE page to a browser, with a CSP and no inline script', async () => {
    const res = await fetch(`${base}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('vary')).toMatch(/Accept/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('<title>Test &lt;IDE&gt;</title>');
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN
    // The only <script> without src is the JSON data block.
    const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)].map((m) => m[1]);
    expect(inline).toEqual([' type="application/json" id="graphiql-config"']);
    const config = JSON.parse(
      /<script type="application\/json" id="graphiql-config">([^<]*)<\/script>/.exec(html)![1]!,
    );
    expect(config).toMatchObject({ endpoint: '/graphql', subscriptionEndpoint: '/graphql' });
    expect(config.defaultQuery).toContain('Authorization');
  });

  it('serves every referenced script, stylesheet and source map with 200, its content type and long caching', async () => {
    const html = await (await fetch(`${base}/graphql`, { headers: { accept: BROWSER_ACCEPT } })).text();
    const scripts = attributeValues(html, 'script', 'src');
    const styles = attributeValues(html, 'link', 'href');
    expect(scripts.map((s) => s.split('?')[0])).toEqual([
      '/graphiql/assets/react.production.min.js',
      '/graphiql/assets/react-dom.production.min.js',
      '/graphiql/assets/graphiql.min.js',
      '/graphiql/assets/graphql-ws.min.js',
      '/graphiql/assets/graphiql-init.js',
    ]);
    expect(styles.map((s) => s.split('?')[0])).toEqual([
      '/graphiql/assets/graphiql.min.css',
      '/graphiql/assets/graphiql-page.css',
    ]);

    const expectAsset = async (url: string, contentType: string) => {
      const res = await fetch(new URL(url, base));
      expect({ url, status: res.status }).toEqual({ url, status: 200 });
      expect(res.headers.get('content-type')).toBe(contentType);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const body = await res.text();
      expect(body.length).toBeGreaterThan(0);
      return { res, body };
    };

    const maps: string[] = [];
    for (const url of [...scripts, ...styles]) {
      const isScript = scripts.includes(url);
      const { res, body } = await expectAsset(
        url,
        isScript ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
      );
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const mapRef = /[#@] sourceMappingURL=([^\s*]+)\s*(?:\*\/)?\s*$/.exec(body);
      if (mapRef) maps.push(new URL(mapRef[1]!, new URL(url, base)).pathname);
    }
    // graphiql's bundles point at their maps; those must resolve too.
    expect(maps).toEqual(
      expect.arrayContaining(['/graphiql/assets/graphiql.min.js.map', '/graphiql/assets/graphiql.min.css.map']),
    );
    for (const map of maps) {
      const { res } = await expectAsset(map, 'application/json; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('public, no-cache');
    }
  });

  it('lets GraphQL clients through to the next handler', async () => {
    for (const accept of ['application/json', 'application/graphql-response+json, application/json', '*/*']) {
      const res = await fetch(`${base}/graphql?query=%7B__typename%7D`, { headers: { accept } });
      expect(await res.json()).toEqual({ data: { fellThrough: true } });
    }
    const post = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { accept: BROWSER_ACCEPT, 'content-type': 'application/json' },
      body: '{"query":"{__typename}"}',
    });
    expect(await post.json()).toEqual({ data: { fellThrough: true } });
  });

  it('answers an unknown asset with 404 and a stable code, never a file outside the list', async () => {
    for (const name of ['nope.js', '..%2Fpackage.json', 'graphiql.js']) {
      const res = await fetch(`${base}/graphiql/assets/${name}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toMatch(/^GRAPHIQL_ASSET_NOT_FOUND/);
    }
  });

  it('sends scripts and styles gzipped to clients that accept it, and as they are otherwise', async () => {
    const file = readFileSync(require.resolve('graphiql/graphiql.min.css'));
    const url = `${base}/graphiql/assets/graphiql.min.css`;
    const zipped = await rawGet(url, { 'accept-encoding': 'gzip, deflate, br' });
    expect(zipped.res.statusCode).toBe(200);
    expect(zipped.res.headers['content-encoding']).toBe('gzip');
    expect(zipped.res.headers.vary).toMatch(/Accept-Encoding/);
    expect(zipped.body.length).toBeLessThan(file.length);
    expect(gunzipSync(zipped.body).equals(file)).toBe(true);
    // The ETag of the gzipped body revalidates to 304.
    const again = await rawGet(url, { 'accept-encoding': 'gzip', 'if-none-match': String(zipped.res.headers.etag) });
    expect(again.res.statusCode).toBe(304);

    const plain = await rawGet(url, { 'accept-encoding': 'identity' });
    expect(plain.res.statusCode).toBe(200);
    expect(plain.res.headers['content-encoding']).toBeUndefined();
    expect(plain.res.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(plain.body.equals(file)).toBe(true);
  });

  it('revalidates an asset requested without its current fingerprint', async () => {
    const res = await fetch(`${base}/graphiql/assets/graphiql-init.js?v=old`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, no-cache');
    expect(res.headers.get('etag')).toBeTruthy();
  });

  it('prefixes endpoint and asset links with the mount path', async () => {
    const mounted = await startApp('/api');
    try {
      const res = await fetch(`${mounted.base}/api/graphql`, { headers: { accept: BROWSER_ACCEPT } });
      const html = await res.text();
      expect(html).toContain('"endpoint":"/api/graphql"');
      for (const src of attributeValues(html, 'script', 'src')) {
        expect(src.startsWith('/api/graphiql/assets/')).toBe(true);
        expect((await fetch(new URL(src, mounted.base))).status).toBe(200);
      }
    } finally {
      await stopApp(mounted.server);
    }
  });

  it('rejects options it cannot serve, with a stable code', () => {
    expect(() => graphiqlRouter({ endpoint: 'graphql', subscriptionEndpoint: '/graphql' })).toThrow(
      /^GRAPHIQL_BAD_OPTIONS/,
    );
    expect(() => graphiqlRouter({ endpoint: '/graphql', subscriptionEndpoint: 'http://x/graphql' })).toThrow(
      /^GRAPHIQL_BAD_OPTIONS/,
    );
    expect(() =>
      graphiqlRouter({ endpoint: '/graphql', subscriptionEndpoint: 'wss://api.example.org/graphql' }),
    ).not.toThrow();
  });
});

describe('graphiql page helpers', () => {
  it('escapes HTML text and attributes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('keeps JSON from closing its script block', () => {
    const json = jsonForScriptBlock({ q: '</script><script>alert(1)</script>\u2028' });
    expect(json).not.toContain('<');
    expect(json).not.toContain('\u2028');
    expect(JSON.parse(json)).toEqual({ q: '</script><script>alert(1)</script>\u2028' });
  });

  it('adds a cross-origin subscription host to connect-src', () => {
    expect(graphiqlContentSecurityPolicy('/graphql')).toContain("connect-src 'self';");
    expect(graphiqlContentSecurityPolicy('wss://ws.example.org/graphql')).toContain(
      "connect-src 'self' wss://ws.example.org;",
    );
  });

  it('finds assets/graphiql from the built layout (dist/src/infra/http) as well as from src/infra/http', () => {
    const repoAssets = findRepoAssetsDir();
    const repoRoot = dirname(dirname(repoAssets));
    expect(findRepoAssetsDir(join(repoRoot, 'dist', 'src', 'infra', 'http'))).toBe(repoAssets);
    expect(() => findRepoAssetsDir('/')).toThrow(/^GRAPHIQL_ASSETS_MISSING/);
  });

  it('ships a browser script that parses', () => {
    const source = readFileSync(`${findRepoAssetsDir()}/graphiql-init.js`, 'utf8');
    expect(() => new Script(source)).not.toThrow();
  });
});
