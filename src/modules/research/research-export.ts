import { randomBytes } from 'node:crypto';
import { Severity } from '../../entities/segmentation';
import { badInput, forbidden } from '../../infra/errors';
import { expiryFor, signedUrl } from '../../infra/storage/signed-urls';
import { SecretBox } from '../accounts';
import { checkFilter, type MetricsFilterInput } from './research.service';

/** The signed-file kind of the CSV links: `/files/research-exports/<token>/<file name>`. */
export const RESEARCH_EXPORT_KIND = 'research-export';

/** The file name a link is signed for (its variant): the day it was minted, UTC. */
export const EXPORT_FILE_NAME = /^lesion-metrics-\d{4}-\d{2}-\d{2}\.csv$/;

/** What a CSV link carries: whose export it is, the export's pseudonym key and what it covers. */
export interface ExportClaims {
  userId: string;
  /** The HMAC key of the export's pseudonymous ids (ResearchService): never readable by a client. */
  exportId: string;
  filter: MetricsFilterInput;
}

export interface MintedExport {
  url: string;
  expiresAt: Date;
  /** The export's public name (lesionMetrics' exportId for the same export): for the audit log. */
  exportId: string;
}

/** Longest model, version or label a link carries: every real one is far shorter, and it keeps URLs short. */
const MAX_TEXT = 200;

/** The filter as the token stores it: short keys, instants as ISO strings, nothing unset. */
type SealedFilter = { m?: string; v?: string; s?: string; u?: string; g?: string; l?: string };

function sealFilter(f: MetricsFilterInput | null | undefined): SealedFilter {
  const out: SealedFilter = {};
  if (f?.model) out.m = f.model;
  if (f?.version) out.v = f.version;
  if (f?.since) out.s = f.since.toISOString();
  if (f?.until) out.u = f.until.toISOString();
  if (f?.severity) out.g = f.severity;
  if (f?.label) out.l = f.label;
  return out;
}

const text = (v: unknown) => (typeof v === 'string' ? v : null);
const instant = (v: unknown) => (typeof v === 'string' ? new Date(v) : null);

function openFilter(s: SealedFilter): MetricsFilterInput {
  const severity = Object.values(Severity).includes(s.g as Severity) ? (s.g as Severity) : null;
  return {
    model: text(s.m),
    version: text(s.v),
    since: instant(s.s),
    until: instant(s.u),
    severity,
    label: text(s.l),
  };
}

/** The filter's checks for an export: lesionMetrics' own, and lengths that keep the link a sane URL. */
export function checkExportFilter(f: MetricsFilterInput | null | undefined): void {
  checkFilter(f);
  for (const k of ['model', 'version', 'label'] as const) {
    const v = f?.[k];
    if (v && v.length > MAX_TEXT) throw badInput(`filter.${k}`, `At most ${MAX_TEXT} characters`);
  }
}

/**
 * Signed, expiring links to the de-identified CSV. The link's id is a token sealed with AES-GCM
 * (SecretBox): the export id inside it is the HMAC key of the pseudonyms, and a client that could
 * read it could hash real ids and re-identify rows, so it is encrypted as lesionMetrics' cursors
 * are, not merely signed. The URL is then signed like every file URL (kind, token, file name and
 * expiry), so a changed byte anywhere is refused before the token is even opened.
 */
export class ResearchExportLinks {
  private readonly box: SecretBox;

  constructor(
    private readonly opts: { secret: string; publicUrl: string; ttlSeconds: number },
    private readonly now: () => number = Date.now,
  ) {
    this.box = new SecretBox(`research-export:${opts.secret}`);
  }

  /** A new export for `userId` (a fresh pseudonym key) over `filter`, as a signed URL. */
  mint(
    userId: string,
    filter: MetricsFilterInput | null | undefined,
    exportName: (id: string) => string,
  ): MintedExport {
    checkExportFilter(filter);
    const nowMs = this.now();
    const exportId = randomBytes(16).toString('base64url');
    const token = this.box.encrypt(
      JSON.stringify({ u: userId, e: exportId, f: sealFilter(filter) }),
      RESEARCH_EXPORT_KIND,
    );
    const variant = `lesion-metrics-${new Date(nowMs).toISOString().slice(0, 10)}.csv`;
    const target = { kind: RESEARCH_EXPORT_KIND, id: token, variant };
    return {
      url: signedUrl(this.opts.publicUrl, this.opts.secret, target, this.opts.ttlSeconds, nowMs),
      expiresAt: new Date(expiryFor(this.opts.ttlSeconds, nowMs) * 1000),
      exportId: exportName(exportId),
    };
  }

  /** The claims of a token whose URL signature was verified; FORBIDDEN for anything else. */
  open(token: string): ExportClaims {
    try {
      const c = JSON.parse(this.box.decrypt(token, RESEARCH_EXPORT_KIND)) as { u: unknown; e: unknown; f: unknown };
      if (typeof c.u !== 'string' || typeof c.e !== 'string' || typeof c.f !== 'object' || !c.f) throw new Error();
      return { userId: c.u, exportId: c.e, filter: openFilter(c.f as SealedFilter) };
    } catch {
      // Only reachable with a valid signature over a token we did not make: a changed secret or a bug.
      throw forbidden('Invalid signature');
    }
  }
}
