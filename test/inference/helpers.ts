import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { Image, ImageFormat, Patient } from '../../src/entities';
import type { TestServer } from '../support/server';
import { connectWs } from '../support/ws';

/** The repo's copy of the ISIC images (datasets/isic-uda1). */
export const ISIC = path.resolve(__dirname, '../../datasets/isic-uda1/images');
export const isicImage = (name: string) => path.join(ISIC, `${name}.jpg`);

export const JOB_FIELDS =
  'id kind status stage progress error attempts imageCount resultIds createdAt startedAt finishedAt';
export const PREDICTION_FIELDS =
  'id imageId patientId jobId label confidence malignant malignantProbability probabilities { label probability } members { model version weight requestedDevice { kind index } device { kind index } fallbackReason } gradCam { method targetClass model heatmapUrl overlayUrl overlay30: overlayUrl(opacity: 0.3) }';
export const SEGMENTATION_FIELDS =
  'id imageId patientId jobId threshold width height severity maskUrl probabilityUrl overlayUrl overlay80: overlayUrl(opacity: 0.8) members { model version weight requestedDevice { kind index } device { kind index } fallbackReason } metrics { areaPercent areaPixels perimeterPixels circularity meanIntensity stdIntensity dice jaccard }';
export const EVENT_FIELDS =
  'jobId seq stage status progress attempt imageId imageIndex imageCount model version requestedDevice { kind index } device { kind index } fallbackReason message predictionId segmentationId gradCam { method heatmapUrl overlayUrl } prediction { id label } segmentation { id severity }';

export const Q = {
  classify: `mutation($imageId: ID!, $models: [EnsembleMemberInput!], $explain: Boolean, $targetClass: String) { classifyImage(imageId: $imageId, models: $models, explain: $explain, targetClass: $targetClass) { ${JOB_FIELDS} } }`,
  classifyMany: `mutation($imageIds: [ID!]!, $models: [EnsembleMemberInput!], $explain: Boolean) { classifyImages(imageIds: $imageIds, models: $models, explain: $explain) { ${JOB_FIELDS} } }`,
  segment: `mutation($imageIds: [ID!]!, $members: [EnsembleMemberInput!]!, $threshold: Float, $groundTruth: [GroundTruthInput!]) { segmentImages(imageIds: $imageIds, members: $members, threshold: $threshold, groundTruth: $groundTruth) { ${JOB_FIELDS} } }`,
  job: `query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`,
  prediction: `query($id: ID!) { prediction(id: $id) { ${PREDICTION_FIELDS} } }`,
  segmentation: `query($id: ID!) { segmentation(id: $id) { ${SEGMENTATION_FIELDS} } }`,
  progress: `subscription($jobId: ID!) { inferenceProgress(jobId: $jobId) { ${EVENT_FIELDS} } }`,
};

/** A patient of `ownerId` with real ISIC images stored as an upload would store them. Returns the image ids. */
export async function seedImages(
  server: TestServer,
  ownerId: string,
  names: string[],
  patientId?: string,
): Promise<string[]> {
  const em = server.services.db.orm.em.fork();
  const patient = patientId
    ? em.getReference(Patient, patientId)
    : (em.create(Patient, {
        owner: ownerId,
        externalId: `MRN-${Math.random().toString(36).slice(2)}`,
        displayName: 'Test Patient',
      } as never) as Patient);
  const ids: string[] = [];
  for (const name of names) {
    // A bare name is an ISIC image; a path (e.g. a PNG mask) is read as it is.
    const bytes = await readFile(name.includes('/') ? name : isicImage(name));
    const put = await server.services.inference.files.putBuffer(bytes);
    const meta = await sharp(bytes).metadata();
    const image = em.create(Image, {
      patient,
      uploadedBy: ownerId,
      sha256: put.sha256,
      format: meta.format === 'png' ? ImageFormat.PNG : ImageFormat.JPEG,
      mimeType: meta.format === 'png' ? 'image/png' : 'image/jpeg',
      byteSize: bytes.length,
      width: meta.width!,
      height: meta.height!,
      originalName: path.basename(name),
    } as never) as Image;
    ids.push(image.id);
  }
  await em.flush();
  return ids;
}

/** Polls `job(id)` until it ends. */
export async function waitForJob(
  server: TestServer,
  token: string,
  id: string,
  ms = 60_000,
): Promise<Record<string, any>> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await server.gql<{ job: Record<string, any> }>(Q.job, { id }, token);
    const job = r.data?.job;
    if (job && (job.status === 'SUCCEEDED' || job.status === 'FAILED')) return job;
    if (Date.now() > end) throw new Error(`job ${id} did not finish: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

export interface ProgressStream {
  events: Array<Record<string, any>>;
  errors: unknown[];
  done: Promise<void>;
  close(): Promise<void>;
}

/**
 * Subscribes to inferenceProgress over graphql-ws at `url` (http url of any api process); `query` asks for
 * other fields of the events (it must take `$jobId`); `onEvent` sees each event as it arrives.
 */
export async function subscribeProgress(
  url: string,
  token: string,
  jobId: string,
  query = Q.progress,
  onEvent?: (event: Record<string, any>) => void,
): Promise<ProgressStream> {
  const client = await connectWs(url, token);
  const events: Array<Record<string, any>> = [];
  const errors: unknown[] = [];
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  client.subscribe(
    { query, variables: { jobId } },
    {
      next: (r) => {
        if (r.errors) errors.push(...r.errors);
        if (r.data) events.push((r.data as any).inferenceProgress);
        if (r.data) onEvent?.((r.data as any).inferenceProgress);
      },
      error: (e) => {
        errors.push(e);
        finish();
      },
      complete: () => finish(),
    },
  );
  return { events, errors, done, close: () => client.dispose() as Promise<void> };
}

/** dermagraph_inference_in_request_total by outcome: jobs classified in the request, and those queued instead. */
export async function inRequestCounts(server: TestServer): Promise<{ classified: number; queued: number }> {
  const m = await server.services.metrics.registry.getSingleMetric('dermagraph_inference_in_request_total')?.get();
  const of = (outcome: string) => m?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  return { classified: of('classified'), queued: of('queued') };
}

/** Every stage of a classification job's progress log, in order (Grad-CAM asked for). */
export const CLASSIFY_STAGES = ['QUEUED', 'PREPROCESSING', 'MODEL', 'ENSEMBLING', 'GRADCAM', 'PERSISTED', 'DONE'];

/** A job's whole progress log over graphql-ws, replayed to its end; the stream has closed and reported no error. */
export async function progressLog(url: string, token: string, jobId: string): Promise<Array<Record<string, any>>> {
  const stream = await subscribeProgress(url, token, jobId);
  await stream.done;
  await stream.close();
  expect(stream.errors).toEqual([]);
  return stream.events;
}

/** Fetches a signed URL from the test server (PUBLIC_URL differs from its random port) and decodes the PNG. */
export async function fetchPng(
  server: TestServer,
  url: string,
): Promise<{ width: number; height: number; channels: number; data: Buffer; status: number; type: string | null }> {
  const u = new URL(url);
  const local = new URL(server.url);
  u.host = local.host;
  const res = await fetch(u);
  const type = res.headers.get('content-type');
  if (res.status !== 200) return { width: 0, height: 0, channels: 0, data: Buffer.alloc(0), status: res.status, type };
  const bytes = Buffer.from(await res.arrayBuffer());
  const meta = await sharp(bytes).metadata();
  // Grey PNGs (mask, probability map) decode to their single channel; colour ones to RGB.
  const img = meta.channels === 1 ? sharp(bytes).extractChannel(0) : sharp(bytes);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    channels: meta.channels ?? info.channels,
    data,
    status: res.status,
    type,
  };
}
