// A patient, an upload that is classified in the same request, an ensemble classification that answers with its
// result, and a segmentation followed over a subscription.
import { firstValueFrom, map, takeWhile, tap, timeout, toArray } from 'rxjs';
import type { Api } from './client.js';
import { graphql } from './gql/index.js';
import type { InferenceProgressSubscription, JobStatus } from './gql/graphql.js';

const CreatePatient = graphql(`
  mutation CreatePatient($input: PatientInput!) {
    createPatient(input: $input) {
      id
      externalId
      displayName
    }
  }
`);

// The whole flow in one request: store the file, classify it with a Grad-CAM, answer once the result is there.
const UploadAndClassify = graphql(`
  mutation UploadAndClassify($patientId: ID!, $files: [Upload!]!) {
    uploadImages(patientId: $patientId, files: $files, classify: { explain: true }, wait: true) {
      id
      format
      width
      height
      latestPrediction {
        id
        label
        confidence
        malignantProbability
        abstained
        reasons
        members {
          model
          version
        }
        gradCam {
          method
          overlayUrl(opacity: 0.5)
        }
      }
    }
  }
`);

const ClassifyImage = graphql(`
  mutation ClassifyImage($imageId: ID!, $models: [EnsembleMemberInput!]) {
    classifyImage(imageId: $imageId, models: $models, explain: false, wait: true) {
      id
      status
      predictions {
        id
        label
        confidence
        members {
          model
          version
          weight
        }
      }
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
      device {
        kind
        index
      }
      message
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

export type ProgressEvent = InferenceProgressSubscription['inferenceProgress'];

const ended = (status: JobStatus) => status !== 'QUEUED' && status !== 'RUNNING';

export async function createPatient(api: Api, externalId: string) {
  const { data } = await api.apollo.mutate({
    mutation: CreatePatient,
    variables: { input: { externalId, displayName: 'Example Patient', dateOfBirth: '1970-05-01', sex: 'FEMALE' } },
  });
  return data!.createPatient;
}

/** Uploads one image and answers with it and its classification (uploadImages with classify and wait). */
export async function uploadAndClassify(api: Api, patientId: string, file: File) {
  const { data } = await api.apollo.mutate({ mutation: UploadAndClassify, variables: { patientId, files: [file] } });
  const image = data!.uploadImages[0];
  // wait answers at JOB_WAIT_TIMEOUT_MS with the image as it stands: no prediction yet is not an error for the
  // server, but this example wants one.
  if (!image.latestPrediction) throw new Error(`image ${image.id} has no prediction yet (the wait timed out)`);
  return { image, prediction: image.latestPrediction };
}

/** A weighted two-model ensemble on an image already stored; the job comes back ended, with its predictions. */
export async function classifyEnsemble(api: Api, imageId: string) {
  const models = [
    { model: 'dg-gap-classifier', weight: 2 },
    { model: 'dg-mlp-classifier', weight: 1 },
  ];
  const { data } = await api.apollo.mutate({ mutation: ClassifyImage, variables: { imageId, models } });
  const job = data!.classifyImage;
  if (job.status !== 'SUCCEEDED' || !job.predictions[0]) throw new Error(`job ${job.id} is ${job.status}`);
  return job.predictions[0];
}

/** Queues a segmentation ensemble and follows its progress events until the job ends; answers with the result. */
export async function segmentAndFollow(
  api: Api,
  imageId: string,
  onEvent: (e: ProgressEvent) => void,
  timeoutMs = 120_000,
) {
  const members = [
    { model: 'dg-seg-stats', weight: 1 },
    { model: 'dg-seg-skin-distance', weight: 1 },
  ];
  const { data } = await api.apollo.mutate({ mutation: SegmentImages, variables: { imageIds: [imageId], members } });
  const job = data!.segmentImages;
  console.log(`segmentation job ${job.id} ${job.status}: following inferenceProgress over graphql-ws`);
  // Events sent before the subscription started are replayed first, so none is missed.
  const events = await firstValueFrom(
    api.apollo.subscribe({ query: InferenceProgress, variables: { jobId: job.id } }).pipe(
      tap((r) => {
        if (r.error) throw r.error;
      }),
      map((r) => r.data!.inferenceProgress),
      tap(onEvent),
      takeWhile((e) => !ended(e.status), true),
      timeout(timeoutMs),
      toArray(),
    ),
  );
  const last = events[events.length - 1];
  const segmentation = events.map((e) => e.segmentation).find((s) => s);
  if (last?.status !== 'SUCCEEDED' || !segmentation)
    throw new Error(`job ${job.id} ended ${last?.status}: ${last?.message ?? ''}`);
  return segmentation;
}
