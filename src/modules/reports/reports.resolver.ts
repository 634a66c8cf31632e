import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role, type Patient, type Report } from '../../entities';
import { keyset, keysetPage, queryTag } from '../../infra/pagination';
import { signedUrl } from '../../infra/storage/signed-urls';
import type { AppContext, AuthUser } from '../../schema/context';
import { CurrentUser } from '../../schema/current-user';
import type { NodeSource } from '../../schema/node';
import { Audited, AuditAction } from '../audit';
import { PatientType } from '../patients';
import { settle, WAIT_DESCRIPTION } from '../jobs';
import { ReportConnection, ReportInput, ReportsArgs, ReportType } from './report.types';
import { reportState } from './reports.service';

const reports = (ctx: AppContext) => ctx.services.reports.service;

/** node(id) for reports, under report(id)'s rule. */
export const reportNodes: NodeSource[] = [
  {
    type: 'Report',
    table: 'reports',
    load: async (ctx, id) => {
      const r = ctx.user ? await reports(ctx).find(ctx.em, ctx.user, id) : null;
      return r ? toReport(ctx, r) : null;
    },
  },
];

/** The GraphQL view of a report, with a freshly signed URL once it is DONE. */
export function toReport(ctx: AppContext, r: Report): ReportType {
  const state = reportState(r);
  const c = ctx.services.config;
  const url =
    state.status === 'DONE'
      ? signedUrl(
          c.PUBLIC_URL,
          c.URL_SIGNING_SECRET,
          { kind: 'report', id: r.id, variant: 'file' },
          c.SIGNED_URL_TTL_SECONDS,
        )
      : null;
  return Object.assign(new ReportType(), {
    id: r.id,
    kind: r.kind,
    status: state.status,
    progress: state.progress,
    imageCount: r.imageCount,
    fileName: r.fileName,
    bytes: state.status === 'DONE' ? (r.bytes ?? null) : null,
    url,
    error: state.error,
    jobId: (r.job as { id: string } | null | undefined)?.id ?? null,
    createdAt: r.createdAt,
    finishedAt:
      r.finishedAt ??
      (state.status === 'FAILED' ? ((r.job as { finishedAt?: Date } | null)?.finishedAt ?? null) : null),
  });
}

/** Reports: generate, read, delete. Researchers have the de-identified exportLesionMetricsCsv instead. */
@Resolver()
export class ReportsResolver {
  @Authorized(Role.CLINICIAN, Role.ADMIN)
  @Mutation(() => ReportType, {
    description:
      'Makes a PDF, CSV or ZIP of images the caller may read (audited, and on each patient’s timeline). Small reports come back DONE; larger ones run as a REPORT job (jobId, progress on inferenceProgress)',
  })
  async generateReport(
    @Arg('input', () => ReportInput, { description: 'What to report on' }) input: ReportInput,
    @Arg('wait', () => Boolean, { nullable: true, defaultValue: false, description: WAIT_DESCRIPTION }) wait: boolean,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<ReportType> {
    const { report, job } = await reports(ctx).generate(ctx.em, user, input, { ip: ctx.ip, userAgent: ctx.userAgent });
    if (!job) return toReport(ctx, report);
    await settle(ctx, user, [job], wait);
    // Read again in a fresh unit of work: the job (another process, maybe) moved the rows.
    return toReport(ctx, (await reports(ctx).find(ctx.em.fork(), user, report.id)) ?? report);
  }

  @Authorized(Role.CLINICIAN, Role.ADMIN)
  @Query(() => ReportType, {
    nullable: true,
    description: 'A report the caller may read (every patient it covers); null otherwise',
  })
  async report(
    @Arg('id', () => ID, { description: 'Report.id' }) id: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<ReportType | null> {
    const r = await reports(ctx).find(ctx.em, user, id);
    return r ? toReport(ctx, r) : null;
  }

  @Authorized(Role.CLINICIAN, Role.ADMIN)
  @Audited(AuditAction.REPORT_DELETED, { details: (a: { id: string }) => ({ reportId: a.id }) })
  @Mutation(() => ID, {
    description: 'Deletes a report (its owner or an admin) and its file; a job still making it stops. Returns its id',
  })
  async deleteReport(
    @Arg('id', () => ID, { description: 'Report.id' }) id: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<string> {
    return (await reports(ctx).delete(ctx.em, user, id)).id;
  }
}

/** Patient.reports: the reports covering the patient that the caller may read. */
@Resolver(() => PatientType)
export class PatientReportsResolver {
  @FieldResolver(() => ReportConnection, { description: 'Reports covering this patient, newest first' })
  async reports(@Root() p: Patient, @Args(() => ReportsArgs) args: ReportsArgs, @Ctx() ctx: AppContext) {
    const user = ctx.user!;
    const tag = queryTag(['patient-reports', p.id]);
    const k = keyset(tag, args);
    const repo = ctx.services.reports.repo;
    const rows = await repo.forPatient(ctx.em, user, p.id, k);
    const page = keysetPage(
      tag,
      rows,
      k,
      (r) => r,
      () => repo.countForPatient(ctx.em, user, p.id),
    );
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toReport(ctx, e.node) })) };
  }
}
