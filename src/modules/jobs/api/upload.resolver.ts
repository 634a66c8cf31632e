import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import type { Image } from '../../../entities';
import type { AppContext, AuthUser } from '../../../schema/context';
import { CurrentUser } from '../../../schema/current-user';
import { ImageType } from '../../images';
import { PATIENT_DATA_ROLES } from '../../patients';
import { settle } from './jobs.resolver';
import { primeLatestPredictions } from './image-results.resolver';
import { ClassifyInput, SegmentInput } from './upload.types';
import { uploadAndQueue } from './upload-jobs.service';
import type { ColumnRow } from '../runner/waited-results';

/**
 * uploadImages: the images module stores the files; this module owns the mutation because it may
 * also queue their classification / segmentation and wait for the results.
 */
@Resolver()
export class UploadImagesResolver {
  @Authorized(...PATIENT_DATA_ROLES)
  @Mutation(() => [ImageType], {
    description:
      'GraphQL multipart request; all files land or none. Send the Apollo-Require-Preflight header. ' +
      'With classify / segment, one job each over the uploaded images is queued in the same request (a refused ' +
      'option or quota stores nothing); with wait, the answer comes once they ended, so Image.latestPrediction ' +
      'and Image.segmentations hold the results',
  })
  async uploadImages(
    @Arg('patientId', () => ID, { description: 'The patient the images belong to (patient:write access)' })
    patientId: string,
    @Arg('lesionId', () => ID, { nullable: true, description: 'The lesion of that patient they show, if any' })
    lesionId: string | null,
    @Arg('files', () => [GraphQLUpload], {
      description:
        'JPEG, PNG, WebP or TIFF files (the type read from the bytes), at most UPLOAD_MAX_FILES of UPLOAD_MAX_FILE_BYTES each',
    })
    files: Promise<FileUpload>[],
    @Arg('classify', () => ClassifyInput, { nullable: true, description: 'Also classify the uploaded images' })
    classify: ClassifyInput | null,
    @Arg('segment', () => SegmentInput, { nullable: true, description: 'Also segment the uploaded images' })
    segment: SegmentInput | null,
    @Arg('wait', () => Boolean, {
      defaultValue: false,
      description:
        'With classify / segment: answer once their jobs ended, or after JOB_WAIT_TIMEOUT_MS with the images as they stand; never an error for slowness',
    })
    wait: boolean,
    @CurrentUser() user: AuthUser,
    @Ctx() ctx: AppContext,
  ): Promise<Image[]> {
    const { em, services } = ctx;
    // With wait, where this process runs the jobs, their predictions come back from the runner as they land
    // (WaitedResults): the answer's latestPrediction is made from them, not read back.
    const waited = wait ? services.inference.waited : undefined;
    // One wait for the whole request: a classification in the request, then the jobs queued.
    const deadline = Date.now() + services.config.JOB_WAIT_TIMEOUT_MS;
    const { images, jobs } = await uploadAndQueue(
      { em, store: services.files, config: services.config, jobs: services.inference.service },
      user,
      { patientId, lesionId, files, classify, segment },
      {
        waited,
        inRequest:
          wait && services.inference.inRequest ? { classifier: services.inference.inRequest, deadline } : undefined,
      },
    );
    let rows: ColumnRow[] = [];
    try {
      // The answer is the images (their other results read with their own access checks), not the jobs.
      await settle(ctx, user, jobs, wait, false, deadline);
    } finally {
      // Taken whatever the wait's end, so nothing stays kept for a request that has gone.
      if (waited) rows = jobs.flatMap((j) => waited.take(j.id));
    }
    primeLatestPredictions(ctx, rows);
    return images;
  }
}
