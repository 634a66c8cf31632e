import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { get, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import express from 'express';
import { graphiqlContentSecurityPolicy, graphiqlRouter } from './graphiql';
import { defaultGraphiqlDistDir, graphiqlBuildFromManifest } from './graphiql/build';
import { escapeHtml, jsonForScriptBlock } from './graphiql/page';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

/**
 * A stand-in for Vite's build of web/graphiql (the real one is loaded in Chromium by test/browser/graphiql.test.ts):
 * the manifest's shape as Vite 8 writes it, an entry importing a chunk that has a stylesheet of its own, a font.
 */
const MANIFEST = {
  'main.tsx': {
    file: 'assets/graphiql-Ab12.js',
    isEntry: true,
    imports: ['_runtime-Cd34.js'],
    dynamicImports: ['_monaco-Ef56.js'],
    css: ['assets/graphiql-Gh78.css'],
  },
  '_runtime-Cd34.js': { file: 'assets/runtime-Cd34.js', imports: ['_shared-Ij90.js'] },
  '_shared-Ij90.js': { file: 'assets/shared-Ij90.js', css: ['assets/shared-Kl12.css'] },
  '_monaco-Ef56.js': { file: 'assets/monaco-Ef56.js', imports: ['_runtime-Cd34.js'] },
  'codicon.ttf': { file: 'assets/codicon-Mn34.ttf' },
};
const CSS_BODY = `.graphiql-container { display: flex; }\n`.repeat(200);

function writeStandInBuild(distDir: string): void {
  mkdirSync(join(distDir, 'assets'), { recursive: true });
  const files: Record<string, string> = {
    'graphiql-Ab12.js': 'import "./runtime-Cd34.js";\nconsole.log("ide");\n',
    'runtime-Cd34.js': 'import "./shared-Ij90.js";\n',
    'shared-Ij90.js': 'export {};\n',
    'monaco-Ef56.js': 'export {};\n',
    'graphiql-Gh78.css': CSS_BODY,
    'shared-Kl12.css': 'body { margin: 0; }\n',
    'codicon-Mn34.ttf': 'font',
  };
  for (const [name, body] of Object.entries(files)) writeFileSync(join(distDir, 'assets', name), body);
  mkdirSync(join(distDir, '.vite'), { recursive: true });
  writeFileSync(join(distDir, '.vite', 'manifest.json'), JSON.stringify(MANIFEST));
}

const distDir = mkdtempSync(join(tmpdir(), 'dg-graphiql-'));
writeStandInBuild(distDir);
afterAll(() => rmSync(distDir, { recursive: true, force: true }));

/** A tiny app: the IDE router first, then a stand-in GraphQL handler that proves fall-through. */
function startApp(mount = '/', dist = distDir): Promise<{ server: Server; base: string }> {
  const app = express();
  const api = express.Router();
  api.use(
    graphiqlRouter({ endpoint: '/graphql', subscriptionEndpoint: '/graphql', title: 'Test <IDE>', distDir: dist }),
  );
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
    const csp = res.headers.get('content-security-policy')!.split('; ');
    expect(csp).toEqual(expect.arrayContaining(["script-src 'self'", "worker-src 'self'", "object-src 'none'"]));
    expect(csp.join('; ')).not.toMatch(/unsafe-eval/);
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

  it('links the build: the entry as a module script, its static imports preloaded, every stylesheet', async () => {
    const html = await (await fetch(`${base}/graphql`, { headers: { accept: BROWSER_ACCEPT } })).text();
    expect(attributeValues(html, 'script', 'src')).toEqual(['/graphiql/assets/graphiql-Ab12.js']);
    expect(html).toContain('<script type="module" src="/graphiql/assets/graphiql-Ab12.js"></script>');
    // The dynamic import (Monaco) is left to the browser to fetch when needed.
    expect([...html.matchAll(/<link rel="modulepreload" href="([^"]+)"/g)].map((m) => m[1])).toEqual([
      '/graphiql/assets/runtime-Cd34.js',
      '/graphiql/assets/shared-Ij90.js',
    ]);
    expect(attributeValues(html, 'link', 'href')).toEqual([
      '/graphiql/assets/graphiql-Gh78.css',
      '/graphiql/assets/shared-Kl12.css',
    ]);
  });

  it('serves every built file with 200, its content type and a year of immutable caching', async () => {
    for (const [name, contentType] of [
      ['graphiql-Ab12.js', 'text/javascript; charset=utf-8'],
      ['monaco-Ef56.js', 'text/javascript; charset=utf-8'],
      ['graphiql-Gh78.css', 'text/css; charset=utf-8'],
      ['codicon-Mn34.ttf', 'font/ttf'],
    ]) {
      const res = await fetch(`${base}/graphiql/assets/${name}`);
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
      expect(res.headers.get('content-type')).toBe(contentType);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(await res.text()).toBe(readFileSync(join(distDir, 'assets', name!), 'utf8'));
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
    writeFileSync(join(distDir, 'assets', 'notes.txt'), 'not a built asset type');
    for (const name of ['nope.js', '..%2Fpackage.json', '..%2F.vite%2Fmanifest.json', '.hidden.js', 'notes.txt']) {
      const res = await fetch(`${base}/graphiql/assets/${name}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toMatch(/^GRAPHIQL_ASSET_NOT_FOUND/);
    }
  });

  it('sends scripts and styles gzipped to clients that accept it, and as they are otherwise', async () => {
    const file = readFileSync(join(distDir, 'assets', 'graphiql-Gh78.css'));
    const url = `${base}/graphiql/assets/graphiql-Gh78.css`;
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

  it('without a build, tells a browser how to make one, and serves it once built (no restart)', async () => {
    const later = mkdtempSync(join(tmpdir(), 'dg-graphiql-later-'));
    const app = await startApp('/', later);
    try {
      const before = await fetch(`${app.base}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
      expect(before.status).toBe(503);
      expect(before.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await before.text()).toMatch(/^The GraphQL IDE is not built: run `npm run build`/);
      // GraphQL clients are not affected.
      const query = await fetch(`${app.base}/graphql?query=%7B__typename%7D`, {
        headers: { accept: 'application/json' },
      });
      expect(await query.json()).toEqual({ data: { fellThrough: true } });

      writeStandInBuild(later);
      const after = await fetch(`${app.base}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
      expect(after.status).toBe(200);
      expect(await after.text()).toContain('/graphiql/assets/graphiql-Ab12.js');
    } finally {
      await stopApp(app.server);
      rmSync(later, { recursive: true, force: true });
    }
  });

  it('prefixes endpoint and asset links with the mount path', async () => {
    const mounted = await startApp('/api');
    try {
      const res = await fetch(`${mounted.base}/api/graphql`, { headers: { accept: BROWSER_ACCEPT } });
      const html = await res.text();
      expect(html).toContain('"endpoint":"/api/graphql"');
      const links = [...attributeValues(html, 'script', 'src'), ...attributeValues(html, 'link', 'href')];
      expect(links).toHaveLength(3);
      for (const src of links) {
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

  it('reads the page files from a Vite manifest: static imports in order, each once, with their stylesheets', () => {
    expect(graphiqlBuildFromManifest(MANIFEST)).toEqual({
      script: 'graphiql-Ab12.js',
      preloads: ['runtime-Cd34.js', 'shared-Ij90.js'],
      styles: ['graphiql-Gh78.css', 'shared-Kl12.css'],
    });
    expect(() => graphiqlBuildFromManifest({})).toThrow(/^GRAPHIQL_BAD_MANIFEST: no entry main.tsx/);
    expect(() =>
      graphiqlBuildFromManifest({ 'main.tsx': { file: 'assets/x.js', isEntry: true, imports: ['_gone.js'] } }),
    ).toThrow(/^GRAPHIQL_BAD_MANIFEST: _gone.js/);
    expect(() => graphiqlBuildFromManifest({ 'main.tsx': { file: '../x.js', isEntry: true } })).toThrow(
      /^GRAPHIQL_BAD_MANIFEST/,
    );
  });

  it('finds web/dist/graphiql from the built layout (dist/src/infra/http/graphiql) as from the sources', () => {
    const fromSources = defaultGraphiqlDistDir();
    const repoRoot = resolve(fromSources, '..', '..', '..');
    expect(fromSources).toBe(join(repoRoot, 'web', 'dist', 'graphiql'));
    expect(defaultGraphiqlDistDir(join(repoRoot, 'dist', 'src', 'infra', 'http', 'graphiql'))).toBe(fromSources);
    // Nowhere to find it: where a build would be beside the sources, for the page to say it is missing.
    expect(defaultGraphiqlDistDir('/opt/app/src/infra/http/graphiql')).toBe('/opt/app/web/dist/graphiql');
  });
});
