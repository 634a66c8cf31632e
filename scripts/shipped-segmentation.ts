/**
 * The shipped segmenters run as the server runs its default segmentation ensemble on one image
 * (each model's own preprocessing, weights 1:1, threshold 0.5, then segmentLesion's post-processing),
 * without a server: for the hand-checked golden cases and the model cards' contact sheet.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeAndResize, rgbToTensor, type InputSpec } from '../src/inference/preprocess';
import { decodeRgb, type RgbImage } from '../src/inference/render';
import { fillScopeSurround } from '../src/inference/scope-fill';
import { segmentLesion, type LesionSegmentation, type MemberMask } from '../src/inference/segmentation-maps';

/** The repository root, from scripts/ under ts-jest or dist/scripts/ once built. */
export const ROOT = fs.existsSync(path.join(__dirname, '../package.json'))
  ? path.join(__dirname, '..')
  : path.join(__dirname, '../..');
export const ISIC_IMAGES = path.join(ROOT, 'datasets/isic-uda1/images');
export const SHIPPED_SEGMENTERS = ['dg-seg-stats', 'dg-seg-skin-distance'];

const pluginFile = (model: string, file: string) => path.join(ROOT, 'plugins', model, file);

/** Whether every shipped segmenter's model file is present (a checkout without them skips). */
export const shippedSegmentersPresent = (): boolean =>
  SHIPPED_SEGMENTERS.every((m) => fs.existsSync(pluginFile(m, 'model.onnx')));

export interface ShippedSegmenters {
  /**
   * One image file through both members and the post-processing; `fillSurround: false` skips the
   * scope-surround fill (scope-fill.ts), to see what the members made of an image before it.
   */
  segment(file: string, opts?: { fillSurround?: boolean }): Promise<{ image: RgbImage; result: LesionSegmentation }>;
  release(): Promise<void>;
}

export async function loadShippedSegmenters(): Promise<ShippedSegmenters> {
  const members = await Promise.all(
    SHIPPED_SEGMENTERS.map(async (m) => ({
      spec: (JSON.parse(fs.readFileSync(pluginFile(m, 'manifest.json'), 'utf8')) as { input: InputSpec }).input,
      session: await ort.InferenceSession.create(pluginFile(m, 'model.onnx')),
    })),
  );
  return {
    async segment(file, { fillSurround = true } = {}) {
      const image = await decodeRgb(file);
      const masks: MemberMask[] = [];
      for (const { spec, session } of members) {
        const resized = await decodeAndResize(file, spec);
        const pixels = fillSurround ? fillScopeSurround(resized.data, resized.width, resized.height).rgb : resized.data;
        const tensor = rgbToTensor(pixels, spec);
        const out = await session.run({ input: new ort.Tensor('float32', tensor, [1, 3, spec.height, spec.width]) });
        masks.push({
          output: out.mask.data as Float32Array,
          width: spec.width,
          height: spec.height,
          activation: 'none',
          fit: { mode: spec.resize ?? 'fill', modelWidth: spec.width, modelHeight: spec.height },
        });
      }
      return { image, result: segmentLesion(masks, [1, 1], 0.5, image) };
    },
    async release() {
      await Promise.all(members.map((m) => m.session.release()));
    },
  };
}
