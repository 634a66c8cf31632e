import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Image, Lesion, Patient, PatientEvent, PatientEventKind, Prediction, Role, Segmentation } from '../../entities';
import { unauthenticated } from '../../infra/errors';
import type { AppContext, AuthUser } from '../../schema/context';
import {
  Dashboard,
  ImageConnection,
  ImageType,
  ImageUploadedEvent,
  LesionAddedEvent,
  LesionInput,
  LesionType,
  NoteAddedEvent,
  PatientChangedEvent,
  PatientConnection,
  PatientCreatedEvent,
  PatientInput,
  PatientType,
  PredictionConnection,
  PredictionEvent,
  SegmentationConnection,
  SegmentationEvent,
  TimelineConnection,
  HistoryArgs,
  ResultHistoryArgs,
  historyWindow,
} from './patients.types';
import { ImageVariant } from '../images/image-processing';
import * as patients from './patients.service';
import { requireAccess } from './access-policy';
import { uploadImages } from '../images/uploads.service';
import { patientTimeline, type TimelineItem } from './timeline.service';
import { myDashboard } from '../quotas/dashboard.service';
import { signedUrl } from '../../infra/storage/signed-urls';
import {
  firstImages,
  firstResults,
  imageCountByPatient,
  sharedWithByPatient,
  userById,
  imageShaById,
  latestPredictionByPatient,
  lesionById,
  lesionsByPatient,
  patientById,
} from './patients.loaders';
import { PredictionType, toPrediction, toSegmentation } from '../jobs';
import { UserType } from '../accounts/user.types';
import type { User } from '../../entities';
import { pageSize, queryTag, toPage, type Page } from '../../infra/pagination';

const me = (ctx: AppContext): AuthUser =>
  ctx.user ??
  (() => {
    throw unauthenticated();
  })();

/** GraphQL Date (YYYY-MM-DD) arrives as a Date at UTC midnight; the column is a plain date. */
function toInput(input: PatientInput): patients.PatientInputData {
  return { ...input, dateOfBirth: input.dateOfBirth ? input.dateOfBirth.toISOString().slice(0, 10) : null };
}

/** Images of a patient or lesion: the batched first page when no cursor or filter is given. */
async function imagesOf(
  ctx: AppContext,
  scope: { patientId?: string; lesionId?: string },
  args: { first: number | null; after: string | null; since: Date | null; until: Date | null },
): Promise<Page<Image>> {
  if (!args.after && !args.since && !args.until) {
    const limit = pageSize(args.first);
    const column = scope.lesionId ? 'lesion_id' : 'patient_id';
    const rows = await firstImages(ctx, column, limit + 1).load((scope.lesionId ?? scope.patientId)!);
    // Same tag as listImages, so the endCursor continues with the unbatched query.
    return toPage(queryTag(['images', scope, null, null]), rows, limit, (r) => r);
  }
  return patients.listImages(ctx.em, scope, args);
}

/** Predictions or segmentations of a patient: the batched first page when no cursor or filter is given. */
async function resultsOf<T extends Prediction | Segmentation>(
  ctx: AppContext,
  entity: new () => T,
  patientId: string,
  args: { first: number | null; after: string | null; since: Date | null; until: Date | null; model: string | null },
): Promise<Page<T>> {
  if (!args.after && !args.since && !args.until && !args.model?.trim()) {
    const limit = pageSize(args.first);
    const rows = await firstResults(ctx, entity, limit + 1).load(patientId);
    // Same tag as listResults, so the endCursor continues with the unbatched query.
    return toPage(queryTag([entity.name, patientId, null, null, null]), rows, limit, (r) => r);
  }
  return patients.listResults(ctx.em, entity, patientId, args);
}

const ALL_STAFF = [Role.ADMIN, Role.CLINICIAN];

@Resolver(() => PatientType)
export class PatientResolver {
  @Authorized(...ALL_STAFF)
  @Query(() => PatientConnection, {
    description: 'Patients you own or that are shared with you (admins: all), newest first',
  })
  patients(
    @Arg('search', () => String, { nullable: true, description: 'Part of the display name or external id' })
    search: string | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('includeArchived', () => Boolean, { nullable: true, defaultValue: false }) includeArchived: boolean,
    @Ctx() ctx: AppContext,
  ): Promise<PatientConnection> {
    return patients.listPatients(ctx.em, me(ctx), {
      search,
      first,
      after,
      includeArchived,
    }) as Promise<PatientConnection>;
  }

  @Authorized(...ALL_STAFF)
  @Query(() => PatientType, { nullable: true, description: 'NOT_FOUND for a patient you cannot see' })
  patient(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Patient> {
    return requireAccess(ctx.em, me(ctx), 'patient:read', id);
  }

  @Authorized(...ALL_STAFF)
  @Mutation(() => PatientType)
  createPatient(@Arg('input', () => PatientInput) input: PatientInput, @Ctx() ctx: AppContext): Promise<Patient> {
    return patients.createPatient(ctx.em, me(ctx), toInput(input));
  }

  @Authorized(...ALL_STAFF)
  @Mutation(() => PatientType)
  updatePatient(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => PatientInput) input: PatientInput,
    @Ctx() ctx: AppContext,
  ): Promise<Patient> {
    return patients.updatePatient(ctx.em, me(ctx), id, toInput(input));
  }

  @Authorized(...ALL_STAFF)
  @Mutation(() => PatientType, {
    description: 'Archives the record (owner or admin only); it is never deleted with its images',
  })
  archivePatient(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Patient> {
    return patients.archivePatient(ctx.em, me(ctx), id);
  }

  @Authorized(...ALL_STAFF)
  @Mutation(() => PatientType, { description: 'Makes an archived record changeable again (owner or admin only)' })
  unarchivePatient(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Patient> {
    return patients.unarchivePatient(ctx.em, me(ctx), id);
  }

  @Authorized(...ALL_STAFF)
  @Mutation(() => PatientType, {
    description: 'Lets another clinician read and change the patient (owner or admin only)',
  })
  sharePatient(
    @Arg('patientId', () => ID) patientId: string,
    @Arg('userId', () => ID) userId: string,
    @Ctx() ctx: AppContext,
  ): Promise<Patient> {
    return patients.sharePatient(ctx.em, me(ctx), patientId, userId);
  }

  @Authorized(...ALL_STAFF)
  @Mutation(() => PatientType, { description: 'Takes a share back (owner or admin only)' })
  unsharePatient(
    @Arg('patientId', () => ID) patientId: string,
    @Arg('userId', () => ID) userId: string,
    @Ctx() ctx: AppContext,
  ): Promise<Patient> {
    return patients.unsharePatient(ctx.em, me(ctx), patientId, userId);
  }

  @Authorized(...ALL_STAFF)
  @Mutation(() => NoteAddedEvent)
  async addPatientNote(
    @Arg('patientId', () => ID) patientId: string,
    @Arg('text', () => String) text: string,
    @Ctx() ctx: AppContext,
  ): Promise<NoteAddedEvent> {
    return timelineNode({
      source: 'EVENT',
      id: '',
      createdAt: new Date(),
      entity: await patients.addPatientNote(ctx.em, me(ctx), patientId, text),
    }) as NoteAddedEvent;
  }

  @Authorized(...ALL_STAFF)
  @Mutation(() => LesionType)
  createLesion(
    @Arg('patientId', () => ID) patientId: string,
    @Arg('input', () => LesionInput) input: LesionInput,
    @Ctx() ctx: AppContext,
  ): Promise<Lesion> {
    return patients.createLesion(ctx.em, me(ctx), patientId, input);
  }

  @Authorized(...ALL_STAFF)
  @Query(() => LesionType, { nullable: true })
  lesion(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Lesion> {
    return requireAccess(ctx.em, me(ctx), 'lesion:read', id);
  }

  @Authorized(...ALL_STAFF)
  @Query(() => ImageType, { nullable: true })
  image(@Arg('id', () => ID) id: string, @Ctx() ctx: AppContext): Promise<Image> {
    return requireAccess(ctx.em, me(ctx), 'image:read', id);
  }

  @Authorized(...ALL_STAFF)
  @Mutation(() => [ImageType], {
    description: 'GraphQL multipart request; all files land or none. Send the Apollo-Require-Preflight header.',
  })
  uploadImages(
    @Arg('patientId', () => ID) patientId: string,
    @Arg('lesionId', () => ID, { nullable: true }) lesionId: string | null,
    @Arg('files', () => [GraphQLUpload]) files: Promise<FileUpload>[],
    @Ctx() ctx: AppContext,
  ): Promise<Image[]> {
    const { em, services } = ctx;
    return uploadImages({ em, store: services.files, config: services.config }, me(ctx), {
      patientId,
      lesionId,
      files,
    });
  }

  @Authorized()
  @Query(() => Dashboard)
  myDashboard(@Ctx() ctx: AppContext): Promise<Dashboard> {
    return myDashboard(ctx.em, ctx.services.config, me(ctx).id);
  }

  // ---- Patient fields ----

  @FieldResolver(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  dateOfBirth(@Root() p: Patient): string | null {
    return p.dateOfBirth ?? null;
  }

  @FieldResolver(() => UserType, { nullable: true, description: 'The clinician who created the record' })
  owner(@Root() p: Patient, @Ctx() ctx: AppContext): Promise<User | null> {
    return userById(ctx).load(p.owner.id);
  }

  @FieldResolver(() => [UserType], { description: 'Clinicians the patient is shared with' })
  sharedWith(@Root() p: Patient, @Ctx() ctx: AppContext): Promise<User[]> {
    return sharedWithByPatient(ctx).load(p.id);
  }

  @FieldResolver(() => Boolean)
  archived(@Root() p: Patient): boolean {
    return !!p.archivedAt;
  }

  @FieldResolver(() => [LesionType], { description: 'Newest first' })
  lesions(@Root() p: Patient, @Ctx() ctx: AppContext): Promise<Lesion[]> {
    return lesionsByPatient(ctx).load(p.id);
  }

  @FieldResolver(() => Int)
  imageCount(@Root() p: Patient, @Ctx() ctx: AppContext): Promise<number> {
    return imageCountByPatient(ctx).load(p.id);
  }

  @FieldResolver(() => ImageConnection, { description: 'Newest first' })
  images(
    @Root() p: Patient,
    @Args(() => HistoryArgs) args: HistoryArgs,
    @Ctx() ctx: AppContext,
  ): Promise<ImageConnection> {
    return imagesOf(ctx, { patientId: p.id }, historyWindow(args)) as Promise<ImageConnection>;
  }

  @FieldResolver(() => PredictionConnection, {
    description: "Classifications of the patient's images, newest first; filter by date and model name",
  })
  async predictions(
    @Root() p: Patient,
    @Args(() => ResultHistoryArgs) args: ResultHistoryArgs,
    @Ctx() ctx: AppContext,
  ): Promise<PredictionConnection> {
    const page = await resultsOf(ctx, Prediction, p.id, { ...historyWindow(args), model: args.model ?? null });
    const shas = await Promise.all(page.edges.map((e) => imageShaById(ctx).load(e.node.imageId)));
    return {
      pageInfo: page.pageInfo,
      edges: page.edges.map((e, i) => ({ cursor: e.cursor, node: toPrediction(e.node, ctx, shas[i]) })),
    };
  }

  @FieldResolver(() => SegmentationConnection, {
    description: "Segmentations of the patient's images, newest first; filter by date and model name",
  })
  async segmentations(
    @Root() p: Patient,
    @Args(() => ResultHistoryArgs) args: ResultHistoryArgs,
    @Ctx() ctx: AppContext,
  ): Promise<SegmentationConnection> {
    const page = await resultsOf(ctx, Segmentation, p.id, { ...historyWindow(args), model: args.model ?? null });
    return {
      pageInfo: page.pageInfo,
      edges: page.edges.map((e) => ({ cursor: e.cursor, node: toSegmentation(e.node) })),
    };
  }

  @FieldResolver(() => PredictionType, {
    nullable: true,
    description: "The newest classification of any of the patient's images",
  })
  async latestPrediction(@Root() p: Patient, @Ctx() ctx: AppContext): Promise<PredictionType | null> {
    const pred = await latestPredictionByPatient(ctx).load(p.id);
    return pred ? toPrediction(pred, ctx, await imageShaById(ctx).load(pred.imageId)) : null;
  }

  @FieldResolver(() => TimelineConnection, { description: 'Everything that happened to the patient, newest first' })
  async timeline(
    @Root() p: Patient,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<TimelineConnection> {
    const page = await patientTimeline(ctx.em, p.id, { first, after });
    return {
      pageInfo: page.pageInfo,
      edges: page.edges.map((e) => ({ cursor: e.cursor, node: timelineNode(e.node) })),
    } as TimelineConnection;
  }
}

/** A timeline row as its GraphQL event type (instances, so the union resolves by class). */
function timelineNode(item: TimelineItem): object {
  switch (item.source) {
    case 'EVENT': {
      const e: PatientEvent = item.entity;
      const actorId = e.actor?.id ?? null;
      if (e.kind === PatientEventKind.PATIENT_CREATED)
        return Object.assign(new PatientCreatedEvent(), { at: e.createdAt, actorId });
      if (e.kind === PatientEventKind.NOTE_ADDED)
        return Object.assign(new NoteAddedEvent(), { id: e.id, at: e.createdAt, actorId, text: e.text ?? '' });
      return Object.assign(new PatientChangedEvent(), {
        at: e.createdAt,
        actorId,
        changedFields: e.changedFields ?? [],
      });
    }
    case 'LESION':
      return Object.assign(new LesionAddedEvent(), { at: item.createdAt, lesion: item.entity });
    case 'IMAGE':
      return Object.assign(new ImageUploadedEvent(), { at: item.createdAt, image: item.entity });
    case 'PREDICTION': {
      const p = item.entity;
      return Object.assign(new PredictionEvent(), {
        at: p.createdAt,
        predictionId: p.id,
        imageId: p.imageId,
        label: p.label,
        confidence: p.confidence,
        malignant: p.malignant,
      });
    }
    case 'SEGMENTATION': {
      const s = item.entity;
      return Object.assign(new SegmentationEvent(), {
        at: s.createdAt,
        segmentationId: s.id,
        imageId: s.imageId,
        areaPercent: s.areaPercent,
        severity: String(s.severity),
      });
    }
  }
}

@Resolver(() => LesionType)
export class LesionFieldsResolver {
  @FieldResolver(() => PatientType)
  async patient(@Root() l: Lesion, @Ctx() ctx: AppContext): Promise<Patient> {
    return (await patientById(ctx).load(l.patient.id))!;
  }

  @FieldResolver(() => ImageConnection, { description: 'The lesion followed over time, newest first' })
  images(
    @Root() l: Lesion,
    @Args(() => HistoryArgs) args: HistoryArgs,
    @Ctx() ctx: AppContext,
  ): Promise<ImageConnection> {
    return imagesOf(ctx, { lesionId: l.id }, historyWindow(args)) as Promise<ImageConnection>;
  }
}

@Resolver(() => ImageType)
export class ImageFieldsResolver {
  @FieldResolver(() => String, { description: 'Signed URL, valid for SIGNED_URL_TTL_SECONDS' })
  url(
    @Root() image: Image,
    @Arg('variant', () => ImageVariant, { defaultValue: ImageVariant.ORIGINAL }) variant: ImageVariant,
    @Ctx() ctx: AppContext,
  ): string {
    const c = ctx.services.config;
    return signedUrl(
      c.PUBLIC_URL,
      c.URL_SIGNING_SECRET,
      { kind: 'image', id: image.id, variant: variant.toLowerCase() },
      c.SIGNED_URL_TTL_SECONDS,
    );
  }

  @FieldResolver(() => LesionType, { nullable: true })
  lesion(@Root() image: Image, @Ctx() ctx: AppContext): Promise<Lesion | null> | null {
    return image.lesion ? lesionById(ctx).load(image.lesion.id) : null;
  }

  @FieldResolver(() => ID)
  patientId(@Root() image: Image): string {
    return image.patient.id;
  }
}
