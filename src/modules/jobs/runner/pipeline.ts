/**
 * One image through classification or a segmentation ensemble, on member runs already opened.
 * No database or storage here: the runner persists what these return. `report` is called at
 * each stage so the job can publish progress as it happens.
 */
import * as ort from 'onnxruntime-node';
import type { Manifest } from '../../../models-registry';
import { decodeAndResize, rgbToTensor, type ResizedRgb } from '../../../inference/preprocess';
import sharp from '../../../inference/sharp';
import { activate } from '../../../inference/softmax';
import type { ClassificationSummary } from '../../../inference/classification';
import { classifyWithMembers } from '../../../inference/ensemble-classification';
import { ensembleDecisionThreshold } from '../../../inference/ensemble';
import type { MemberDisagreement } from '../../../inference/ensemble-disagreement';
import { featureMapAt, type ModelFit } from '../../../inference/cam-map';
import { gradCam, UnsupportedHeadError, type CamResult } from '../../../inference/gradcam';
import { scoreCam } from '../../../inference/score-cam';
import { fillScopeSurround } from '../../../inference/scope-fill';
import type { SeverityThresholds } from '../../../inference/severity';
import { batcherFor, type ImageOutputs } from './batcher';
import type { MemberRun, MemberSessions } from './members';
import type { MemberRecord, PredictionMemberRecord } from '../../../entities/prediction';
import type { FinishedSegmentation } from './image-tasks';
import { movable, type ImageWork } from './image-threads';
import { decodeKey, type DecodedImage, type DisplayedSize } from './decoded-pixels';
import { measureDecoded } from './abstain-check';
import type { QualityFigures } from '../../../inference/image-quality';
import type { StoredCam } from '../cam-map-file';

/** An image's bytes, or the path of its file (sharp then reads it on its own threads). */
export type ImageSource = Buffer | string;

/** An image's bytes read when first needed (an upload's decoded pixels may make reading them unnecessary). */
export type LazySource = () => Promise<ImageSource>;

/** `load` called at most once, whoever asks. */
export function lazySource(load: LazySource): LazySource {
  let read: Promise<ImageSource> | null = null;
  return () => (read ??= load());
}

export type StageReport = (
  stage: 'preprocessing' | 'model' | 'ensembling' | 'metrics' | 'gradcam',
  detail?: { member?: MemberRun; message?: string },
) => Promise<void>;

const outputOf = (m: Manifest, role: string) => m.outputs.find((o) => o.role === role)?.name;
const fitOf = (m: Manifest): ModelFit => ({
  mode: m.input.resize ?? 'fill',
  modelWidth: m.input.width,
  modelHeight: m.input.height,
});
const specKey = (m: Manifest) => decodeKey(m.input);

export function memberRecord(r: MemberRun): MemberRecord {
  return {
    model: r.spec.model,
    version: r.spec.version,
    requested: r.device.requested,
    device: r.device.actual,
    fallbackReason: r.device.fallbackReason ?? null,
    weight: r.spec.weight,
  };
}

/**
 * The image decoded and resized per distinct input size (members sharing one share the decode),
 * starting from `decoded` (pixels the upload made: DecodedPixels) where it has them.
 * Normalisation happens in each member's batcher, straight into the batch it runs in.
 */
async function preprocess(
  source: ImageSource | LazySource,
  members: MemberRun[],
  decoded?: ReadonlyMap<string, ResizedRgb>,
): Promise<Map<string, ResizedRgb>> {
  const pixels = new Map<string, ResizedRgb>();
  for (const r of members) {
    const k = specKey(r.lease.manifest);
    if (pixels.has(k)) continue;
    const ready = decoded?.get(k);
    pixels.set(k, ready ?? (await decodeAndResize(await load(source), r.lease.manifest.input)));
  }
  return pixels;
}

const load = (source: ImageSource | LazySource): Promise<ImageSource> | ImageSource =>
  typeof source === 'function' ? source() : source;

/** Runs every member concurrently (each through its session's dynamic batcher). */
async function runMembers(
  members: MemberRun[],
  pixels: Map<string, ResizedRgb>,
  report: StageReport,
): Promise<ImageOutputs[]> {
  return Promise.all(
    members.map(async (r) => {
      const out = await batcherFor(r.runner).run(r.runner, pixels.get(specKey(r.lease.manifest))!.data);
      await report('model', { member: r });
      return out;
    }),
  );
}

/** Pixels in the image (width x height), read from its header without decoding it. */
export async function imagePixels(source: ImageSource): Promise<number> {
  const m = await sharp(source).metadata();
  return (m.width ?? 0) * (m.height ?? 0);
}

/**
 * Longest side of a stored Grad-CAM map. A CAM has the feature map's resolution (7x7 to 16x16):
 * keeping it at a 50-megapixel photo's size would cost the job 200 MB and seconds on the event loop
 * for no detail. Overlays lay it on the image at the image's own resolution.
 */
export const MAX_CAM_SIDE = 1024;

/** The image's aspect at no more than MAX_CAM_SIDE on the long side. */
export function camSize(image: { width: number; height: number }): { width: number; height: number } {
  const scale = Math.min(1, MAX_CAM_SIDE / Math.max(image.width, image.height));
  return { width: Math.max(1, Math.round(image.width * scale)), height: Math.max(1, Math.round(image.height * scale)) };
}

/** Display size after EXIF orientation, without decoding the pixels. */
async function orientedSize(source: ImageSource): Promise<DisplayedSize> {
  const m = await sharp(source).metadata();
  const swap = (m.orientation ?? 1) >= 5;
  return swap ? { width: m.height!, height: m.width! } : { width: m.width!, height: m.height! };
}

export interface CamOutput {
  method: CamResult['method'];
  targetLabel: string;
  /** Which member it explains. */
  model: string;
  /** The CAM at feature resolution and what lays it on the image: stored as it is (cam-map-file.ts). */
  map: StoredCam;
}

export interface ClassifyResult {
  summary: ClassificationSummary;
  /** Each member's record with its own output. */
  members: PredictionMemberRecord[];
  /** How much the members disagree; null with one member. */
  disagreement: MemberDisagreement | null;
  cam: CamOutput | null;
  /** Image-quality figures of the pixels the members ran on (abstain-check.ts). */
  quality: QualityFigures;
  /** What `summary.malignant` was decided against: the members' thresholds by weight (ensembleDecisionThreshold). */
  decisionThreshold: number;
}

export async function classifyImage(
  source: ImageSource | LazySource,
  members: MemberRun[],
  opts: {
    explain: boolean;
    targetLabel?: string | null;
    sessions: MemberSessions;
    /** What the upload decoded (DecodedPixels): pixels at the members' input sizes and the displayed size, if any. */
    decoded?: DecodedImage;
  },
  report: StageReport,
): Promise<ClassifyResult> {
  await report('preprocessing');
  const pixels = await preprocess(source, members, opts.decoded?.pixels);
  const outputs = await runMembers(members, pixels, report);
  await report('ensembling');
  const quality = measureDecoded(pixels);
  const probs = members.map((r, i) => {
    const m = r.lease.manifest;
    const name = outputOf(m, 'logits') ?? outputOf(m, 'probabilities')!;
    return activate(outputs[i][name].data, m.postprocess.activation);
  });
  const lead = members[0].lease.manifest;
  const weights = members.map((r) => r.spec.weight);
  const decisionThreshold = ensembleDecisionThreshold(
    members.map((r) => r.lease.manifest.postprocess.decisionThreshold),
    weights,
  );
  const {
    summary,
    members: own,
    disagreement,
  } = classifyWithMembers(probs, weights, lead.labels!, lead.malignantLabels ?? [], decisionThreshold);
  let cam: CamOutput | null = null;
  if (opts.explain) {
    const shown = opts.decoded?.size ?? (await orientedSize(await load(source)));
    cam = await explain(shown, members, outputs, pixels, opts.targetLabel ?? summary.label, opts.sessions);
    await report('gradcam');
  }
  return {
    summary,
    members: members.map((r, i) => ({ ...memberRecord(r), output: own[i] })),
    disagreement,
    cam,
    quality,
    decisionThreshold,
  };
}

/** Grad-CAM (exact through the head) or Score-CAM on the heaviest member that exposes a feature map. */
async function explain(
  shown: DisplayedSize,
  members: MemberRun[],
  outputs: ImageOutputs[],
  pixels: Map<string, ResizedRgb>,
  targetLabel: string,
  sessions: MemberSessions,
): Promise<CamOutput | null> {
  const candidates = members
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => outputOf(r.lease.manifest, 'gradcam_features'));
  if (!candidates.length) return null;
  const { r, i } = candidates.reduce((a, b) => (b.r.spec.weight > a.r.spec.weight ? b : a));
  const m = r.lease.manifest;
  const targetClass = m.labels!.indexOf(targetLabel);
  const feat = outputs[i][outputOf(m, 'gradcam_features')!];
  const fm = featureMapAt(feat.data, feat.dims, 0);
  const plan = await sessions.headPlan(r.lease);
  let result: CamResult | null = null;
  if (plan.differentiable) {
    try {
      result = gradCam(plan.head, fm, { targetClass });
    } catch (e) {
      if (!(e instanceof UnsupportedHeadError)) throw e;
    }
  }
  if (!result) {
    const logitsName = outputOf(m, 'logits') ?? outputOf(m, 'probabilities')!;
    const input = rgbToTensor(pixels.get(specKey(m))!.data, m.input);
    result = await scoreCam(fm, {
      input,
      layout: m.input.layout,
      width: m.input.width,
      height: m.input.height,
      targetClass,
      logits: outputs[i][logitsName].data,
      batchSize: m.batching.maxBatch,
      runLogits: async (batch, n) => {
        const dims =
          m.input.layout === 'NCHW' ? [n, 3, m.input.height, m.input.width] : [n, m.input.height, m.input.width, 3];
        const out = await r.runner.run({ [m.input.name]: new ort.Tensor('float32', batch, dims) }, [logitsName]);
        return out[logitsName].data as Float32Array;
      },
    });
  }
  return {
    method: result.method,
    targetLabel: m.labels![result.targetClass],
    model: `${r.spec.model}@${r.spec.version}`,
    map: { cam: result.cam, camWidth: result.width, camHeight: result.height, ...camSize(shown), fit: fitOf(m) },
  };
}

export interface SegmentResult extends FinishedSegmentation {
  members: MemberRecord[];
}

/**
 * The members run on the image at their input size here; the ensemble, metrics and PNGs at the
 * image's own resolution run on an image thread (`images`), so a large image never blocks the event
 * loop. `source` and `truth` are moved to that thread: the caller must not use them after.
 */
export async function segmentImage(
  source: Buffer,
  members: MemberRun[],
  opts: { threshold: number; severity: SeverityThresholds; truth?: Buffer | null; images: ImageWork },
  report: StageReport,
): Promise<SegmentResult> {
  await report('preprocessing');
  const pixels = new Map<string, ResizedRgb>();
  for (const [k, r] of await preprocess(source, members)) {
    // A scope's dark surround would pass for the darkest lesion: segmenters see it painted skin (scope-fill.ts).
    const scope = fillScopeSurround(r.data, r.width, r.height);
    pixels.set(
      k,
      scope.filled ? { ...r, data: Buffer.from(scope.rgb.buffer, scope.rgb.byteOffset, scope.rgb.length) } : r,
    );
  }
  const outputs = await runMembers(members, pixels, report);
  await report('ensembling');
  const maps = members.map((r, i) => {
    const m = r.lease.manifest;
    const out = outputs[i][outputOf(m, 'mask')!];
    const [h, w] = out.dims.slice(-2);
    const activation = m.postprocess.activation === 'sigmoid' ? ('sigmoid' as const) : ('none' as const);
    return {
      output: Float32Array.from(out.data.subarray(0, w * h) as Float32Array),
      width: w,
      height: h,
      activation,
      fit: fitOf(m),
    };
  });
  const input = {
    source: movable(source),
    maps,
    weights: members.map((r) => r.spec.weight),
    threshold: opts.threshold,
    severity: opts.severity,
    truth: opts.truth ? movable(opts.truth) : null,
  };
  const transfer = [
    input.source.buffer,
    ...maps.map((m) => m.output.buffer),
    ...(input.truth ? [input.truth.buffer] : []),
  ];
  const finished = await opts.images.run('finishSegmentation', input, transfer);
  await report('metrics');
  return { ...finished, members: members.map(memberRecord) };
}
