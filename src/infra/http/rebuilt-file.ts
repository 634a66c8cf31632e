import { readFileSync, statSync } from 'node:fs';

/**
 * A build output (web/dist/index.html, GraphiQL's Vite manifest) read once, then again whenever a new build replaces
 * it, told by its mtime: the server may outlive a `npm run build:web`. null while the file is missing. `parse` turns
 * the text into what is kept.
 */
export function rebuiltFile<T>(file: string, parse: (text: string) => T): () => T | null {
  let cached: { mtimeMs: number; value: T } | null = null;
  return () => {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      cached = null;
      return null;
    }
    if (!cached || cached.mtimeMs !== mtimeMs) cached = { mtimeMs, value: parse(readFileSync(file, 'utf8')) };
    return cached.value;
  };
}
