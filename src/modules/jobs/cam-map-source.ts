import { readFile } from 'node:fs/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { FileStore } from '../../infra/storage/file-store';

/**
 * Where a Grad-CAM map's bytes are (cam-map-file.ts has their form): in the prediction row that keeps
 * them (`grad_cam_map`), or, for rows stored before maps moved into the row, in the file store under
 * the sha256 that names them. A map in neither is an ENOENT, as a missing file always was.
 */
export function camMapBytes(files: FileStore, sha256: string, inRow: Buffer | null | undefined): Promise<Buffer> {
  return inRow ? Promise.resolve(inRow) : readFile(files.path(sha256));
}

/** The map a heatmap URL names (by sha256): one indexed read of a row that keeps it, else the store's file. */
export async function readCamMap(em: EntityManager, files: FileStore, sha256: string): Promise<Buffer> {
  const rows = (await em
    .getConnection()
    .execute(
      'select grad_cam_map as map from predictions where grad_cam_map_sha256 = ? and grad_cam_map is not null limit 1',
      [sha256],
    )) as Array<{ map: Buffer }>;
  return camMapBytes(files, sha256, rows[0]?.map);
}
