import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/** Where a browser asset of the GraphQL IDE comes from: an installed package or this repository. */
interface AssetSource {
  /** The name it is served under: /graphiql/assets/<name>. */
  name: string;
  /** An npm package name, or `repo` for files under assets/graphiql/ in this repository. */
  from: string;
  /** Path inside the package (or inside assets/graphiql/). */
  file: string;
  /** Whether the page references it (scripts and stylesheets), as opposed to source maps. */
  kind: 'script' | 'style' | 'map';
}

/**
 * Everything the page loads, in load order for scripts. GraphiQL 3 ships a UMD bundle that expects
 * the React 18 UMD globals; graphql-ws ships its own UMD client (global `graphqlWs`).
 */
const SOURCES: readonly AssetSource[] = [
  { name: 'graphiql.min.css', from: 'graphiql', file: 'graphiql.min.css', kind: 'style' },
  { name: 'graphiql-page.css', from: 'repo', file: 'graphiql-page.css', kind: 'style' },
  { name: 'react.production.min.js', from: 'react', file: 'umd/react.production.min.js', kind: 'script' },
  { name: 'react-dom.production.min.js', from: 'react-dom', file: 'umd/react-dom.production.min.js', kind: 'script' },
  { name: 'graphiql.min.js', from: 'graphiql', file: 'graphiql.min.js', kind: 'script' },
  { name: 'graphql-ws.min.js', from: 'graphql-ws', file: 'umd/graphql-ws.min.js', kind: 'script' },
  { name: 'graphiql-init.js', from: 'repo', file: 'graphiql-init.js', kind: 'script' },
  // The bundles end with sourceMappingURL comments; serving the maps keeps devtools free of 404s.
  { name: 'graphiql.min.js.map', from: 'graphiql', file: 'graphiql.min.js.map', kind: 'map' },
  { name: 'graphiql.min.css.map', from: 'graphiql', file: 'graphiql.min.css.map', kind: 'map' },
];

const CONTENT_TYPES: Record<AssetSource['kind'], string> = {
  script: 'text/javascript; charset=utf-8',
  style: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
};

export interface GraphiqlAsset {
  name: string;
  kind: AssetSource['kind'];
  contentType: string;
  absolutePath: string;
  /** Short content hash: the page links `?v=<hash>` so an asset can be cached as immutable. */
  version: string;
}

/** Walks up from this file to the directory holding assets/graphiql (src/ under Jest, dist/src/ when built). */
export function findRepoAssetsDir(start = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'assets', 'graphiql');
    if (existsSync(path.join(candidate, 'graphiql-init.js'))) return candidate;
    if (path.dirname(dir) === dir) {
      throw new Error(`GRAPHIQL_ASSETS_MISSING: no assets/graphiql/graphiql-init.js above ${start}`);
    }
  }
}

function packageDir(name: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch (cause) {
    throw new Error(`GRAPHIQL_ASSETS_MISSING: npm package ${name} is not installed (npm ci)`, { cause });
  }
}

/**
 * Resolves and fingerprints every asset once, at start, so a missing package fails the server
 * start rather than the first browser that opens the page.
 */
export function loadGraphiqlAssets(): Map<string, GraphiqlAsset> {
  const repoDir = findRepoAssetsDir();
  const assets = new Map<string, GraphiqlAsset>();
  for (const source of SOURCES) {
    const absolutePath = path.join(source.from === 'repo' ? repoDir : packageDir(source.from), source.file);
    if (!existsSync(absolutePath)) throw new Error(`GRAPHIQL_ASSETS_MISSING: ${absolutePath}`);
    // Maps are large and only fetched by devtools: fingerprint them by path, not content.
    const version = createHash('sha256')
      .update(source.kind === 'map' ? absolutePath : readFileSync(absolutePath))
      .digest('hex')
      .slice(0, 12);
    assets.set(source.name, {
      name: source.name,
      kind: source.kind,
      contentType: CONTENT_TYPES[source.kind],
      absolutePath,
      version,
    });
  }
  return assets;
}

const gzipped = new WeakMap<GraphiqlAsset, Promise<Buffer>>();

/**
 * The asset gzipped once, on first request, then kept in memory (the whole page is about 4.1 MB
 * raw, 1.05 MB gzipped; the embedded server has no nginx in front to compress it). zlib runs on
 * the thread pool, so the first request does not block the event loop.
 */
export function gzippedAsset(asset: GraphiqlAsset): Promise<Buffer> {
  let body = gzipped.get(asset);
  if (!body) {
    body = readFile(asset.absolutePath).then((raw) => gzipAsync(raw, { level: 9 }));
    // A failed read is not cached: the next request tries again.
    body.catch(() => gzipped.delete(asset));
    gzipped.set(asset, body);
  }
  return body;
}
