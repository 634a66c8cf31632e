import type { Config } from '../infra/config';
import type { Database } from '../infra/database/database';
import type { Logger } from '../infra/observability/logger';
import { LocalFileStore, type FileStore } from '../infra/storage/file-store';
import { sweepUnreferencedFiles, type FileGcReport, type ReferencedFiles } from '../infra/storage/file-gc';

/**
 * Every column that holds the sha256 of a file in DATA_DIR/files. A new one MUST be added here, or
 * the file GC deletes its files: test/topology/file-gc.test.ts fails on any `*sha256` column that is
 * neither here nor in NOT_STORE_FILES.
 */
export const FILE_REFERENCES: ReadonlyArray<{ table: string; column: string }> = [
  { table: 'images', column: 'sha256' },
  { table: 'predictions', column: 'grad_cam_heatmap_sha256' },
  // A map kept in its row (grad_cam_map) or, on rows stored before, a file; either way its renderings are files.
  { table: 'predictions', column: 'grad_cam_map_sha256' },
  { table: 'segmentations', column: 'mask_sha256' },
  { table: 'segmentations', column: 'probability_sha256' },
  { table: 'segmentations', column: 'overlay_sha256' },
  { table: 'reports', column: 'file_sha256' },
];

/**
 * sha256s of store files kept inside json columns, each found by a jsonpath: a segmentation ensemble's
 * members keep their own mask files (`members[*].output.maskSha256`). A new one MUST be added here too.
 */
export const JSON_FILE_REFERENCES: ReadonlyArray<{ table: string; column: string; path: string }> = [
  { table: 'segmentations', column: 'members', path: '$[*].output.maskSha256' },
];

/** sha256 columns that do not name a file of the store (a model's ONNX file lives under DATA_DIR/models). */
export const NOT_STORE_FILES: ReadonlyArray<{ table: string; column: string }> = [
  { table: 'model_versions', column: 'model_sha256' },
];

/** Which of `shas` any row references: one scan per column per batch (shas are checked hex, sent as one array literal). */
export function referencedIn(db: Database): ReferencedFiles {
  return async (shas) => {
    const list = shas.filter((s) => /^[0-9a-f]{64}$/.test(s));
    if (!list.length) return new Set();
    const sql = [
      ...FILE_REFERENCES.map(
        ({ table, column }) => `select "${column}" as sha from "${table}" where "${column}" = any(?::text[])`,
      ),
      ...JSON_FILE_REFERENCES.map(
        ({ table, column, path }) =>
          `select sha from (select jsonb_path_query("${column}", '${path}') #>> '{}' as sha from "${table}") j where sha = any(?::text[])`,
      ),
    ].join(' union ');
    const literal = `{${list.join(',')}}`;
    const rows = (await db.orm.em
      .fork()
      .getConnection()
      .execute(
        sql,
        [...FILE_REFERENCES, ...JSON_FILE_REFERENCES].map(() => literal),
      )) as Array<{ sha: string }>;
    return new Set(rows.map((r) => r.sha));
  };
}

/** One sweep of the store under DATA_DIR/files (`dermagraph gc-files`, and the periodic sweep). */
export function collectFiles(
  config: Pick<Config, 'dataDir' | 'FILE_GC_GRACE_MINUTES'>,
  db: Database,
  store: FileStore,
  opts: { dryRun?: boolean; graceMinutes?: number } = {},
): Promise<FileGcReport> {
  if (!(store instanceof LocalFileStore)) throw new Error('the file GC knows the local file store only');
  return sweepUnreferencedFiles(store, referencedIn(db), {
    graceMs: (opts.graceMinutes ?? config.FILE_GC_GRACE_MINUTES) * 60_000,
    dryRun: opts.dryRun,
  });
}

/**
 * The periodic sweep of an api process: every FILE_GC_INTERVAL_MINUTES (0: never), the first one at
 * a random point of the first interval so processes started together do not sweep together (two
 * sweeps at once are safe, only wasted work). Returns the function that stops it (and waits for a
 * sweep under way).
 */
export function startFileGc(
  config: Pick<Config, 'dataDir' | 'FILE_GC_GRACE_MINUTES' | 'FILE_GC_INTERVAL_MINUTES'>,
  db: Database,
  store: FileStore,
  logger: Logger,
  firstDelayMs?: number,
): () => Promise<void> {
  const every = config.FILE_GC_INTERVAL_MINUTES * 60_000;
  if (!every) return async () => undefined;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const sweep = () => {
    running ??= collectFiles(config, db, store)
      .then((r) => {
        if (r.removed || r.derivedRemoved || r.stagedRemoved)
          logger.info({ ...r }, 'file GC: removed files no row references');
        else logger.debug({ ...r }, 'file GC: nothing to remove');
      })
      .catch((err: unknown) => logger.warn({ err }, 'file GC failed; trying again at the next interval'))
      .finally(() => (running = null));
  };
  const schedule = (ms: number) => {
    timer = setTimeout(() => {
      sweep();
      schedule(every);
    }, ms);
    timer.unref();
  };
  schedule(firstDelayMs ?? Math.floor(Math.random() * every));
  return async () => {
    if (timer) clearTimeout(timer);
    timer = null;
    await running;
  };
}
