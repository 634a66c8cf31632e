import type { Config } from '../infra/config';
import { openDatabase } from '../infra/database/database';
import type { Logger } from '../infra/observability/logger';
import { createFileStore } from '../infra/storage/file-store';
import type { FileGcReport } from '../infra/storage/file-gc';
import { collectFiles } from '../app/file-gc';

/**
 * `dermagraph gc-files [--dry-run] [--grace-minutes N]`: one sweep of DATA_DIR/files, removing the
 * files no row references (left by a crash between storing files and committing rows), and
 * derived copies without their original (and no row keeping its bytes) and staged uploads. Safe while servers and workers run
 * on the same DATA_DIR (see src/infra/storage/file-gc.ts); with the embedded database, stop the
 * server first (PGlite belongs to one process).
 */
export async function gcFiles(
  config: Config,
  logger: Logger,
  opts: { dryRun?: boolean; graceMinutes?: number },
): Promise<FileGcReport> {
  const db = await openDatabase(config, logger, { migrate: false });
  try {
    return await collectFiles(config, db, createFileStore(config.dataDir), opts);
  } finally {
    await db.close();
  }
}

/** The report as the command prints it: one line per figure. */
export function formatGcReport(r: FileGcReport, dryRun: boolean): string {
  const verb = dryRun ? 'would remove' : 'removed';
  return [
    `scanned ${r.scanned} stored files`,
    `${verb} ${r.removed} without a row (${r.removedBytes} bytes)`,
    `${verb} ${r.derivedRemoved} derived copies without their original`,
    ...(dryRun ? [] : [`removed ${r.stagedRemoved} abandoned staged uploads`]),
    ...(r.kept ? [`kept ${r.kept} that were referenced or stored again during the sweep`] : []),
  ].join('\n');
}
