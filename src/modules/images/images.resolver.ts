import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { Image, Lesion, Patient } from '../../entities';
import { pageSize, toPage, type Page } from '../../infra/pagination';
import { signedUrl } from '../../infra/storage/signed-urls';
import type { AppContext, AuthUser } from '../../schema/context';
import { CurrentUser } from '../../schema/current-user';
import {
  HistoryArgs,
  ImageUploadedEvent,
  LesionType,
  PATIENT_DATA_ROLES,
  PatientType,
  historyWindow,
  lesionById,
  requireAccess,
  type HistoryWindow,
} from '../patients';
import { ImageVariant } from './image-processing';
import { firstImages, imageCountByPatient } from './images.loaders';
import { imagesCount, imagesTag, listImages } from './images.service';
import { ImageConnection, ImageType } from './images.types';

/** Images of a patient or lesion: the batched first page when no cursor or filter is given. */
async function imagesOf(
  ctx: AppContext,
  scope: { patientId: string } | { lesionId: string },
  w: HistoryWindow,
): Promise<Page<Image>> {
  if (w.after || w.since || w.until) return listImages(ctx.em, scope, w);
  const limit = pageSize(w.first);
  const rows = await ('lesionId' in scope
    ? firstImages(ctx, 'lesion_id', limit + 1).load(scope.lesionId)
    : firstImages(ctx, 'patient_id', limit + 1).load(scope.patientId));
  return toPage(imagesTag(scope, w), rows, limit, (r) => r, imagesCount(ctx.em, scope, w));
}

/** Images: reading one, and their fields (signed URLs, lesion, patient). uploadImages is the jobs module's (it may queue jobs). */
@Resolver(() => ImageType)
export class ImageResolver {
  @Authorized(...PATIENT_DATA_ROLES)
  @Query(() => ImageType, {
    nullable: true,
    description: 'An image of a patient you can see; NOT_FOUND otherwise (admins and clinicians)',
  })
  image(
    @Arg('id', () => ID, { description: 'Image.id' }) id: string,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Image> {
    return requireAccess(ctx.em, user, 'image:read', id);
  }

  @FieldResolver(() => String, {
    description:
      'Signed URL of the file: the same string for every query within one SIGNED_URL_TTL_SECONDS window (browsers cache it), valid one to two windows, then 403; readable from CORS_ORIGINS pages',
  })
  url(
    @Root() image: Image,
    @Arg('variant', () => ImageVariant, {
      defaultValue: ImageVariant.ORIGINAL,
      description: 'Which copy: THUMBNAIL for lists, NORMALIZED for display, ORIGINAL for the exact upload',
    })
    variant: ImageVariant,
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

  @FieldResolver(() => LesionType, {
    nullable: true,
    description: 'The lesion it shows; null when uploaded without one',
  })
  lesion(@Root() image: Image, @Ctx() ctx: AppContext): Promise<Lesion | null> | null {
    return image.lesion ? lesionById(ctx).load(image.lesion.id) : null;
  }

  @FieldResolver(() => ID, { description: 'The patient (Patient.id) the image belongs to' })
  patientId(@Root() image: Image): string {
    return image.patient.id;
  }
}

/** The images of a patient (the patients module does not know images; this module adds them). */
@Resolver(() => PatientType)
export class PatientImagesResolver {
  @FieldResolver(() => ImageConnection, { description: 'Newest first' })
  images(@Root() p: Patient, @Args(() => HistoryArgs) args: HistoryArgs, @Ctx() ctx: AppContext): Promise<Page<Image>> {
    return imagesOf(ctx, { patientId: p.id }, historyWindow(args));
  }

  @FieldResolver(() => Int, { description: 'Number of images of the patient, all lesions' })
  imageCount(@Root() p: Patient, @Ctx() ctx: AppContext): Promise<number> {
    return imageCountByPatient(ctx).load(p.id);
  }
}

@Resolver(() => LesionType)
export class LesionImagesResolver {
  @FieldResolver(() => ImageConnection, { description: 'The lesion followed over time, newest first' })
  images(@Root() l: Lesion, @Args(() => HistoryArgs) args: HistoryArgs, @Ctx() ctx: AppContext): Promise<Page<Image>> {
    return imagesOf(ctx, { lesionId: l.id }, historyWindow(args));
  }
}

@Resolver(() => ImageUploadedEvent)
export class ImageUploadedEventResolver {
  @FieldResolver(() => ImageType, { description: 'The image uploaded' })
  image(@Root() e: ImageUploadedEvent): Image {
    return e.image;
  }
}
