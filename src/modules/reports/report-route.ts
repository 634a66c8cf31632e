import { ReportKind, ReportStatus } from '../../entities';
import { notFound } from '../../infra/errors';
import type { SignedFileRoute } from '../../infra/http/signed-files';
import type { Database } from '../../infra/database/database';
import type { FileStore } from '../../infra/storage/file-store';
import { isUuid } from '../../infra/database/sql';
import type { ReportRepository } from './reports.repository';

const CONTENT_TYPE: Record<ReportKind, string> = {
  [ReportKind.PDF]: 'application/pdf',
  [ReportKind.PDFS_ZIP]: 'application/zip',
  [ReportKind.MASKS_ZIP]: 'application/zip',
  [ReportKind.CSV]: 'text/csv; charset=utf-8',
};

/**
 * `/files/reports/:id/file`: a DONE report's file as a download. The signed URL is the
 * authorisation (minted only for callers who may read every patient of the report, and short-lived);
 * a report deleted since answers 404.
 */
export function reportFileRoute(deps: { db: Database; files: FileStore; repo: ReportRepository }): SignedFileRoute {
  return {
    kind: 'report',
    async serve({ id, variant }) {
      if (variant !== 'file' || !isUuid(id)) throw notFound('Report');
      const r = await deps.repo.find(deps.db.orm.em.fork(), id);
      if (!r || r.status !== ReportStatus.DONE || !r.fileSha256) throw notFound('Report');
      return {
        path: deps.files.path(r.fileSha256),
        type: CONTENT_TYPE[r.kind],
        fileName: r.fileName,
        etag: `"${r.fileSha256}"`,
      };
    },
  };
}
