import type { EntityManager } from '@mikro-orm/postgresql';
import { Role, User } from '../../entities';
import type { Config } from '../../infra/config';
import { forbidden } from '../../infra/errors';
import type { SignedFileRoute } from '../../infra/http/signed-files';
import { isUuid } from '../../infra/database/sql';
import { AuditAction, createAuditWriter } from '../audit';
import { researchCsv } from '../reports';
import { EXPORT_FILE_NAME, RESEARCH_EXPORT_KIND, ResearchExportLinks } from './research-export';
import { ResearchService } from './research.service';

/** Who may read de-identified research data: lesionMetrics' roles. */
export const EXPORT_ROLES: readonly Role[] = [Role.RESEARCHER, Role.ADMIN];

/** Rows per statement while streaming: large enough to be few statements, small enough to hold. */
const PAGE_SIZE = 1000;

export interface ResearchCsvRouteDeps {
  config: Config;
  forkEm: () => EntityManager;
  logger: { error(o: object, m?: string): void };
  /** Rows per statement (tests make it small to cross many pages). */
  pageSize?: number;
}

/**
 * `/files/research-exports/<token>/lesion-metrics-<date>.csv` for the signed-file router: streams
 * the de-identified CSV of the export the token names. The signature proves the link is ours and
 * unexpired; the owner is then read again, so a link stops working once its owner is disabled,
 * deleted or no longer a researcher or admin. Every fetch, allowed or refused, is audited.
 */
export function researchCsvRoute(deps: ResearchCsvRouteDeps): SignedFileRoute {
  const { config } = deps;
  const links = new ResearchExportLinks({
    secret: config.URL_SIGNING_SECRET,
    publicUrl: config.PUBLIC_URL,
    ttlSeconds: config.SIGNED_URL_TTL_SECONDS,
  });
  const research = new ResearchService(config.URL_SIGNING_SECRET);
  const audit = createAuditWriter(deps.logger);

  return {
    kind: RESEARCH_EXPORT_KIND,
    async serve({ id, variant }, request) {
      // Only this file name is ever signed: another one is a URL we did not make.
      if (!EXPORT_FILE_NAME.test(variant)) throw forbidden('Invalid signature');
      const claims = links.open(id);
      const em = deps.forkEm();
      const owner = isUuid(claims.userId) ? await em.findOne(User, { id: claims.userId }) : null;
      const allowed = !!owner && !owner.disabledAt && EXPORT_ROLES.includes(owner.role);
      const details = { export: research.exportName(claims.exportId), filter: claims.filter };
      await audit(em, AuditAction.RESEARCH_EXPORT_DOWNLOADED, {
        actorId: owner?.id ?? null,
        success: allowed,
        meta: request,
        details: allowed ? details : { ...details, error: 'FORBIDDEN', owner: claims.userId },
      });
      if (!allowed) throw forbidden('The owner of this link may no longer export research data');
      return {
        type: 'text/csv; charset=utf-8',
        fileName: variant,
        open: () => researchCsv(research.exportRows(em, claims.filter, claims.exportId, deps.pageSize ?? PAGE_SIZE)),
      };
    },
  };
}
