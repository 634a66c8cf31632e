import { JobKind } from '../../entities';
import type { Config } from '../../infra/config';
import type { Database } from '../../infra/database/database';
import type { SignedFileRoute } from '../../infra/http/signed-files';
import type { Logger } from '../../infra/observability/logger';
import { createAuditWriter } from '../audit';
import type { JobsModule } from '../jobs';
import { reportFileRoute } from './report-route';
import { ReportRepository } from './reports.repository';
import { ReportsService } from './reports.service';

/** The reports layer of a process: what `Services.reports` holds. */
export interface ReportsModule {
  service: ReportsService;
  repo: ReportRepository;
  /** The signed download route of report files (api processes mount it). */
  fileRoute: SignedFileRoute;
}

/**
 * Builds the reports layer over the jobs layer, and registers the REPORT job kind with it, so
 * whichever process runs jobs (the api in embedded mode, `dermagraph worker`) makes large reports.
 */
export function createReportsModule(deps: {
  config: Config;
  logger: Logger;
  db: Database;
  jobs: JobsModule;
}): ReportsModule {
  const repo = new ReportRepository();
  const service = new ReportsService({
    config: deps.config,
    logger: deps.logger,
    repo,
    jobs: deps.jobs,
    audit: createAuditWriter(deps.logger),
  });
  deps.jobs.registerKind(JobKind.REPORT, (run) => service.runJob(run));
  return { service, repo, fileRoute: reportFileRoute({ db: deps.db, files: deps.jobs.files, repo }) };
}
