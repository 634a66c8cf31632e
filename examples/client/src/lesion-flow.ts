// Patients, an upload, a classification that answers with its result, and a segmentation followed over a subscription.
import { firstValueFrom, map, takeWhile, tap, timeout, toArray } from 'rxjs';
import type { Api } from './client.js';
import { graphql } from './gql/index.js';
import type { InferenceProgressSubscription } from './gql/graphql.js';

const CreatePatient = graphql(`
  mutation CreatePatient($input: PatientInput!) {
    createPatient(input: $input) {
      id
      externalId
      displayName
    }
  }
`);

const UploadImages = graphql(`
  mutation UploadImages($patientId: ID!, $files: [Upload!]!) {
    uploadImages(patientId: $patientId, files: $files) {
      id
      format
      width
      height
    }
  }
`);

const ClassifyImage = graphql(`
  mutation ClassifyImage($imageId: ID!) {
    classifyImage(imageId: $imageId, explain: true) {
      id
      status
      resultIds
    }
  }
`);

const SegmentImages = graphql(`
  mutation SegmentImages($imageIds: [ID!]!, $members: [EnsembleMemberInput!]!) {
    segmentImages(imageIds: $imageIds, members: $members) {
      id
      status
    }
  }
`);

const InferenceProgress = graphql(`
  subscription InferenceProgress($jobId: ID!) {
    inferenceProgress(jobId: $jobId) {
      seq
      stage
      status
      progress
      model
      version
      device
      message
      prediction {
        id
        label
        confidence
        malignantProbability
        members {
          model
          version
        }
        gradCam {
          overlayUrl(opacity: 0.5)
        }
      }
      segmentation {
        id
        severity
        overlayUrl(opacity: 0.3)
        metrics {
          areaPercent
          circularity
        }
      }
    }
  }
`);

type ProgressEvent = InferenceProgressSubscription['inferenceProgress'];

export async function createPatient(api: Api, externalId: string) {
  const { data } = await api.apollo.mutate({
    mutation: CreatePatient,
    variables: { input: { externalId, displayName: 'Example Patient', dateOfBirth: '1970-05-01', sex: 'FEMALE' } },
  });
  return data!.createPatient;
}

export async function uploadImage(api: Api, patientId: string, file: File) {
  const { data } = await api.apollo.mutate({ mutation: UploadImages, variables: { patientId, files: [file] } });
  return data!.uploadImages[0];
}

/** Every progress event of a job until `done` or `failed` (the server replays the ones sent before we subscribed). */
async function follow(api: Api, jobId: string, onEvent: (e: ProgressEvent) => void, timeoutMs = 120_000) {
  const events = await firstValueFrom(
    api.apollo.subscribe({ query: InferenceProgress, variables: { jobId } }).pipe(
      tap((r) => {
        if (r.error) throw r.error;
      }),
      map((r) => r.data!.inferenceProgress),
      tap(onEvent),
      takeWhile((e) => e.stage !== 'done' && e.stage !== 'failed', true),
      timeout(timeoutMs),
      toArray(),
    ),
  );
  const last = events[events.length - 1];
  if (last?.stage !== 'done') throw new Error(`job ${jobId} ended ${last?.stage}: ${last?.message ?? ''}`);
  return events;
}

export async function classifyWithWait(api: Api, imageId: string) {
  const { data } = await api.apollo.mutate({ mutation: ClassifyImage, variables: { imageId } });
  const events = await follow(api, data!.classifyImage.id, () => {});
  const prediction = events.map((e) => e.prediction).find((p) => p);
  if (!prediction) throw new Error('no prediction');
  return prediction;
}

export async function followSegmentation(api: Api, imageId: string, onEvent: (e: ProgressEvent) => void) {
  const { data } = await api.apollo.mutate({
    mutation: SegmentImages,
    variables: {
      imageIds: [imageId],
      members: [
        { model: 'dg-seg-stats', weight: 1 },
        { model: 'dg-seg-skin-distance', weight: 1 },
      ],
    },
  });
  const job = data!.segmentImages;
  console.log(`segmentation job ${job.id} ${job.status}: following its progress over graphql-ws`);
  const events = await follow(api, job.id, onEvent);
  const segmentation = events.map((e) => e.segmentation).find((s) => s);
  if (!segmentation) throw new Error('no segmentation');
  return segmentation;
}
