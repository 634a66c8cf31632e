import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isPackageFolder, listPackageFiles } from './package';

/** Package folders in `dir`: the folder itself, `dir/<x>/` or `dir/<name>/<version>/` (dot-folders skipped). */
export async function findPackageFolders(dir: string): Promise<string[]> {
  const root = resolve(dir);
  if (!existsSync(root)) return [];
  if (await isPackageFolder(root)) return [root];
  const found: string[] = [];
  const subdirs = async (d: string) =>
    (await readdir(d, { withFileTypes: true }))
      .filter((x) => x.isDirectory() && !x.name.startsWith('.'))
      .map((x) => join(d, x.name));
  for (const child of await subdirs(root)) {
    if (await isPackageFolder(child)) found.push(child);
    else for (const grandchild of await subdirs(child)) if (await isPackageFolder(grandchild)) found.push(grandchild);
  }
  return found.sort();
}

/** Size and mtime of every file: a folder that failed is retried only after this changes. */
export async function folderSignature(folder: string): Promise<string> {
  try {
    const files = await listPackageFiles(folder);
    const parts = await Promise.all(
      files.map(async (f) => {
        const st = await stat(join(folder, f));
        return `${f}:${st.size}:${st.mtimeMs}`;
      }),
    );
    return parts.join('|');
  } catch (e) {
    return `error:${(e as Error).message}`;
  }
}
