import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { projectRoot } from '../../src/infra/paths';
import { batchShape, imageToTensor, type InputSpec } from '../../src/inference/preprocess';
import { graphqlForm, gql, peerForm, postForm } from './client';
import type { FloorProcess } from './floor-process';
import type { PeerProcess } from './peer-process';
import type { ServerUnderTest } from './server';

export const MODEL_DIR = path.join(projectRoot, 'plugins', 'dg-gap-classifier');
export const MANIFEST = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'manifest.json'), 'utf8')) as {
  modelFile: string;
  labels: string[];
  input: InputSpec & { name: string };
  threads: { intraOp: number; interOp: number };
};

/** Bytes after a JPEG's EOI marker are ignored by decoders but change its sha256: every upload is new content. */
export const unique = (jpeg: Buffer) => Buffer.concat([jpeg, Buffer.from(`bench-${randomUUID()}`)]);

/** What a row is compared with: the peer doing the same (with or without Grad-CAM); none for upload only. */
export type PeerRef = 'peer explain' | 'peer plain' | null;

export interface Flow {
  name: string;
  /** Whose CPU the row is charged: the bench process itself (bare), the peer, or the server or the floor (+ PostgreSQL). */
  runs: 'bare' | 'peer' | 'server' | 'floor';
  ref: PeerRef;
  /** For the peer's rows: which reference it is. */
  is?: PeerRef;
  /** Window length as a multiple of the base one (a 20-image request needs longer windows to be counted fairly). */
  span: number;
  /** The main flow: its windows also get a stage breakdown from the server's metrics (bench/peer/stages.ts). */
  breakdown?: boolean;
  /** One request; resolves with the images it handled, after checking the answer. */
  once(i: number): Promise<number>;
}

/** sharp decode + resize + normalise and onnxruntime-node on the same ONNX file, with the manifest's threads. */
export async function bareFlow(image: Buffer): Promise<Flow & { release(): Promise<void> }> {
  const session = await ort.InferenceSession.create(path.join(MODEL_DIR, MANIFEST.modelFile), {
    intraOpNumThreads: MANIFEST.threads.intraOp,
    interOpNumThreads: MANIFEST.threads.interOp,
    graphOptimizationLevel: 'all',
  });
  const shape = batchShape(1, MANIFEST.input);
  return {
    name: 'bare floor: sharp + onnxruntime-node in the bench process',
    runs: 'bare',
    ref: null,
    span: 1,
    async once() {
      const { tensor } = await imageToTensor(image, MANIFEST.input);
      await session.run({ [MANIFEST.input.name]: new ort.Tensor('float32', tensor, shape) });
      return 1;
    },
    release: () => session.release(),
  };
}

export interface PeerAnswer {
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
  gradcam: string | null;
}

export async function askPeer(peer: PeerProcess, image: Buffer, explain: boolean): Promise<PeerAnswer> {
  const body = (await postForm(`${peer.url}/predict?explain=${explain}`, peerForm(image))) as PeerAnswer;
  if (!MANIFEST.labels.includes(body.label) || (explain ? !body.gradcam : body.gradcam !== null))
    throw new Error(`peer answered ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

/**
 * The peer's two rows. Every answer must equal `reference` (the same image, alone) to the byte, Grad-CAM map
 * included: concurrent requests share one model on several threads, so this catches one request's
 * activations or gradients ending up in another's map.
 */
export function peerFlows(peer: PeerProcess, image: Buffer, reference: PeerAnswer): Flow[] {
  return [true, false].map((explain) => ({
    name: `peer: FastAPI + PyTorch, ${explain ? 'with' : 'no'} Grad-CAM`,
    runs: 'peer',
    ref: null,
    is: explain ? 'peer explain' : 'peer plain',
    span: 1,
    async once() {
      const a = await askPeer(peer, unique(image), explain);
      const same = a.confidence === reference.confidence && (!explain || a.gradcam === reference.gradcam);
      if (!same) throw new Error(`peer answered differently under load: ${JSON.stringify(a).slice(0, 200)}`);
      return 1;
    },
  }));
}

/**
 * The persisted floor's row (bench/peer/floor-service.ts): the peer's job with the answer kept, as directly as
 * Node allows. Its label must be the peer's.
 */
export function floorFlow(floor: FloorProcess, image: Buffer, reference: PeerAnswer): Flow {
  return {
    name: 'persisted floor: Node http + busboy + sharp + onnxruntime-node + 1 SQL statement, Grad-CAM',
    runs: 'floor',
    ref: 'peer explain',
    span: 1,
    async once() {
      const url = `${floor.url}/predict?explain=true&session=${floor.session}`;
      const a = (await postForm(url, peerForm(unique(image)))) as PeerAnswer & { predictionId: string };
      if (a.label !== reference.label || !a.gradcam || !a.predictionId)
        throw new Error(`floor answered ${JSON.stringify(a).slice(0, 300)}`);
      return 1;
    },
  };
}

const PREDICTION = 'label confidence probabilities { label probability } gradCam { heatmapUrl }';
/** The upload's operation name, as the server's metrics label its requests. */
export const UPLOAD_OPERATION = 'BenchUpload';
const UPLOAD = `mutation ${UPLOAD_OPERATION}($p: ID!, $f: [Upload!]!, $c: ClassifyInput, $w: Boolean!) {
  uploadImages(patientId: $p, files: $f, classify: $c, wait: $w) { id latestPrediction { ${PREDICTION} } } }`;
const ME = 'query BenchMe { me { id email role } }';
const CLASSIFY = `mutation($id: ID!) {
  classifyImage(imageId: $id, explain: true, wait: true) { status error predictions { ${PREDICTION} } } }`;

interface Prediction {
  label: string;
  probabilities: Array<{ label: string; probability: number }>;
  gradCam: { heatmapUrl: string } | null;
}

function checkPrediction(p: Prediction | null, explain: boolean): Prediction {
  if (!p || !MANIFEST.labels.includes(p.label) || (explain ? !p.gradCam?.heatmapUrl : p.gradCam !== null))
    throw new Error(`server answered the prediction ${JSON.stringify(p)}`);
  return p;
}

/** uploadImages with `files`; with classify, waits for the job and checks every image's prediction. */
export async function upload(
  s: ServerUnderTest,
  files: Buffer[],
  classify: { explain: boolean } | null,
): Promise<Array<{ id: string; latestPrediction: Prediction | null }>> {
  const vars = { p: s.patientId, c: classify, w: classify !== null };
  const images = (await postForm(s.url, graphqlForm(UPLOAD, vars, files), s.token)).data.uploadImages;
  if (images.length !== files.length) throw new Error(`uploaded ${images.length} of ${files.length}`);
  if (classify) for (const im of images) checkPrediction(im.latestPrediction, classify.explain);
  return images;
}

export async function serverFlows(s: ServerUnderTest, image: Buffer): Promise<Flow[]> {
  // Stored images for classifyImage, several so that concurrent requests are not all about one row.
  const stored = (
    await upload(
      s,
      Array.from({ length: 8 }, () => unique(image)),
      null,
    )
  ).map((im) => im.id);
  const classifyStored = async (i: number) => {
    const job = (await gql(s.url, CLASSIFY, { id: stored[i % stored.length] }, s.token)).classifyImage;
    if (job.status !== 'SUCCEEDED' || job.predictions.length !== 1)
      throw new Error(`classifyImage ended ${job.status}: ${job.error}`);
    checkPrediction(job.predictions[0], true);
    return 1;
  };
  return [
    {
      name: 'server: uploadImages + classify, wait, Grad-CAM',
      runs: 'server',
      ref: 'peer explain',
      span: 1,
      breakdown: true,
      once: () => upload(s, [unique(image)], { explain: true }).then(() => 1),
    },
    {
      name: 'server: uploadImages + classify, wait, no Grad-CAM',
      runs: 'server',
      ref: 'peer plain',
      span: 1,
      once: () => upload(s, [unique(image)], { explain: false }).then(() => 1),
    },
    {
      name: 'server: classifyImage wait on a stored image, Grad-CAM',
      runs: 'server',
      ref: 'peer explain',
      span: 1,
      once: classifyStored,
    },
    {
      // No image: what any signed-in request costs (HTTP, GraphQL, the token and the session row), the part of
      // every flow above that no faster image path can remove; its "img/s" is requests a second.
      name: 'server: query { me }, signed in, no image',
      runs: 'server',
      ref: null,
      span: 1,
      once: async () => {
        if ((await gql(s.url, ME, {}, s.token)).me?.id == null) throw new Error('me answered no id');
        return 1;
      },
    },
    {
      name: 'server: uploadImages only',
      runs: 'server',
      ref: null,
      span: 1,
      once: () => upload(s, [unique(image)], null).then(() => 1),
    },
    {
      name: 'server: uploadImages of 20 + classify, wait, Grad-CAM',
      runs: 'server',
      ref: 'peer explain',
      span: 3,
      once: () =>
        upload(
          s,
          Array.from({ length: 20 }, () => unique(image)),
          { explain: true },
        ).then(() => 20),
    },
  ];
}
