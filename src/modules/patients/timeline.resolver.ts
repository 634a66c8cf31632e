import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import { PatientEventKind, type Patient } from '../../entities';
import { DEFAULT_PAGE, MAX_PAGE, type Page } from '../../infra/pagination';
import type { AppContext, AuthUser } from '../../schema/context';
import { CurrentUser } from '../../schema/current-user';
import { PATIENT_DATA_ROLES } from './access-policy';
import { addPatientNote } from './patients.service';
import { PatientType } from './patients.types';
import { patientTimeline, type TimelineItem } from './timeline.service';
import {
  ImageUploadedEvent,
  LesionAddedEvent,
  NoteAddedEvent,
  PatientChangedEvent,
  PatientCreatedEvent,
  PredictionEvent,
  ReportGeneratedEvent,
  SegmentationEvent,
  TimelineConnection,
} from './timeline.types';

/** A timeline row as its GraphQL event type (instances, so the union resolves by class). */
function timelineNode(item: TimelineItem): object {
  switch (item.source) {
    case 'EVENT': {
      const e = item.entity;
      const actorId = e.actor?.id ?? null;
      if (e.kind === PatientEventKind.PATIENT_CREATED)
        return Object.assign(new PatientCreatedEvent(), { at: e.createdAt, actorId });
      if (e.kind === PatientEventKind.NOTE_ADDED)
        return Object.assign(new NoteAddedEvent(), { id: e.id, at: e.createdAt, actorId, text: e.text ?? '' });
      if (e.kind === PatientEventKind.REPORT_GENERATED)
        return Object.assign(new ReportGeneratedEvent(), {
          id: e.id,
          at: e.createdAt,
          actorId,
          text: e.text ?? '',
          reportId: e.reportId ?? '',
        });
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
        abstained: p.abstained ?? null,
      });
    }
    case 'SEGMENTATION': {
      const s = item.entity;
      return Object.assign(new SegmentationEvent(), {
        at: s.createdAt,
        segmentationId: s.id,
        imageId: s.imageId,
        areaPercent: s.areaPercent,
        severity: s.severity,
      });
    }
  }
}

/** A patient's history: notes written on it, and everything recorded about it, newest first. */
@Resolver(() => PatientType)
export class TimelineResolver {
  @Authorized(...PATIENT_DATA_ROLES)
  @Mutation(() => NoteAddedEvent, {
    description: 'Adds a note to the patient’s timeline (anyone who may change the patient; not on archived ones)',
  })
  async addPatientNote(
    @Arg('patientId', () => ID, { description: 'The patient (Patient.id)' }) patientId: string,
    @Arg('text', () => String, { description: 'The note: 1 to 10,000 characters after trimming' }) text: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<NoteAddedEvent> {
    const entity = await addPatientNote(ctx.em, user, patientId, text);
    return timelineNode({ source: 'EVENT', id: entity.id, createdAt: entity.createdAt, entity }) as NoteAddedEvent;
  }

  @FieldResolver(() => TimelineConnection, {
    description:
      'Everything that happened to the patient, newest first. Page forwards with first/after, or backwards with last/before (without before: the oldest events)',
  })
  async timeline(
    @Root() p: Patient,
    @Arg('first', () => Int, { nullable: true, description: `Page size, 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE})` })
    first: number | null,
    @Arg('after', () => String, {
      nullable: true,
      description: 'pageInfo.endCursor of the previous page of this patient’s timeline',
    })
    after: string | null,
    @Arg('last', () => Int, {
      nullable: true,
      description: `Read backwards: this many events, 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE}), just newer than \`before\`, or the oldest ones without it`,
    })
    last: number | null,
    @Arg('before', () => String, {
      nullable: true,
      description: 'A cursor of this patient’s timeline (e.g. pageInfo.startCursor); the page ends just before it',
    })
    before: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<Page<object>> {
    const page = await patientTimeline(ctx.em, p.id, { first, after, last, before });
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: timelineNode(e.node) })) };
  }
}
