import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { rebuiltFile } from '../rebuilt-file';

const gzipAsync = promisify(gzip);

/**
 * The GraphQL IDE's browser code is built by Vite (web/graphiql, `npm run build:web`) into web/dist/graphiql:
 * hashed files under assets/ and .vite/manifest.json, which names the entry's script, the chunks it imports and its
 * stylesheets. The server writes the page from the manifest and serves assets/ itself.
 */

/** The entry as the manifest keys it (web/graphiql/vite.config.mts: rolldownOptions.input). */
export const GRAPHIQL_ENTRY = 'main.tsx';

export interface GraphiqlBuild {
  /** The entry script (type="module"), a file name under assets/. */
  script: string;
  /** Chunks the entry imports statically: preloaded so the browser fetches them at once. */
  preloads: string[];
  /** Stylesheets of the entry and of its static imports. */
  styles: string[];
}

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  css?: string[];
}

/**
 * web/dist/graphiql of this repository: walks up from this file (src/infra/http/graphiql under Jest,
 * dist/src/infra/http/graphiql when built) to the folder holding web/graphiql. Where there is none, the path where a
 * build would be: the page then says how to build it, and the server starts all the same.
 */
export function defaultGraphiqlDistDir(start = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'web', 'graphiql'))) return path.join(dir, 'web', 'dist', 'graphiql');
    if (path.dirname(dir) === dir) return path.resolve(start, '..', '..', '..', '..', 'web', 'dist', 'graphiql');
  }
}

const assetName = (file: string) => {
  if (!file.startsWith('assets/')) throw new Error(`GRAPHIQL_BAD_MANIFEST: ${file} is not under assets/`);
  return file.slice('assets/'.length);
};

/** The page's files from a Vite manifest (pure: the manifest's JSON in, names under assets/ out). */
export function graphiqlBuildFromManifest(manifest: Record<string, ManifestChunk>): GraphiqlBuild {
  const entry = manifest[GRAPHIQL_ENTRY];
  if (!entry?.isEntry) throw new Error(`GRAPHIQL_BAD_MANIFEST: no entry ${GRAPHIQL_ENTRY}`);
  const preloads: string[] = [];
  const styles = [...(entry.css ?? [])];
  const seen = new Set<string>([GRAPHIQL_ENTRY]);
  const visit = (keys: string[] = []) => {
    for (const key of keys) {
      if (seen.has(key)) continue;
      seen.add(key);
      const chunk = manifest[key];
      if (!chunk) throw new Error(`GRAPHIQL_BAD_MANIFEST: ${key} is imported but not listed`);
      preloads.push(chunk.file);
      styles.push(...(chunk.css ?? []));
      visit(chunk.imports);
    }
  };
  visit(entry.imports);
  return { script: assetName(entry.file), preloads: preloads.map(assetName), styles: styles.map(assetName) };
}

/**
 * The build as it is now, re-read when a new build replaces the manifest; null while there is none. A manifest that
 * does not name the entry is an error, not "missing".
 */
export function graphiqlBuildLoader(distDir: string): () => GraphiqlBuild | null {
  return rebuiltFile(path.join(distDir, '.vite', 'manifest.json'), (text) =>
    graphiqlBuildFromManifest(JSON.parse(text)),
  );
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff2': 'font/woff2',
};

/** Content type of a built asset by its extension; undefined for anything the build does not make. */
export function assetContentType(name: string): string | undefined {
  return CONTENT_TYPES[path.extname(name)];
}

/** A name Vite gives an asset: one path segment, no dot files (so nothing outside assets/ can be named). */
export function isAssetName(name: string): boolean {
  return /^[\w-][\w.-]*$/.test(name) && !name.includes('..');
}

const gzipped = new Map<string, Promise<Buffer>>();

/**
 * The file gzipped once, on first request, then kept in memory (the IDE is about 7 MB raw, 2 MB gzipped; the
 * embedded server has no proxy in front to compress it). Names are content-hashed, so the path is the key. zlib runs
 * on the thread pool, so the first request does not block the event loop.
 */
export function gzippedAsset(file: string): Promise<Buffer> {
  let body = gzipped.get(file);
  if (!body) {
    body = readFile(file).then((raw) => gzipAsync(raw, { level: 9 }));
    // A failed read is not cached: the next request tries again.
    body.catch(() => gzipped.delete(file));
    gzipped.set(file, body);
  }
  return body;
}
