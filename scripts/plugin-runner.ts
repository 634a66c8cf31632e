/**
 * Runs a shipped plugin folder the way the server does: the manifest's input spec through
 * src/inference/preprocess.ts, then onnxruntime-node on the CPU with the manifest's thread counts.
 * Deliberately small (no registry, no hot swap): the training, evaluation and packaging scripts and
 * the tests about the shipped files use it. The registry (src/models-registry) is the serving path.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { batchShape, imageToTensor, type InputSpec } from '../src/inference/preprocess';

/** The parts of manifest.json (see the manifest contract) these scripts read. */
export interface PluginManifest {
  name: string;
  version: string;
  task: 'classification' | 'segmentation';
  modelFile: string;
  files: Record<string, string>;
  input: InputSpec & { name: string; dtype: 'float32' };
  outputs: { name: string; role: 'logits' | 'probabilities' | 'mask' | 'gradcam_features' }[];
  labels?: string[];
  malignantLabels?: string[];
  postprocess: { activation: 'softmax' | 'sigmoid' | 'none'; decisionThreshold?: number; maskThreshold?: number };
  threads?: { intraOp: number; interOp: number };
  metrics?: { test?: Record<string, unknown> };
  goldenCases?: (
    | { image: string; tolerance: number; expected: { probabilities: number[] } }
    | { image: string; expectedMask: string; minIoU: number }
  )[];
  [key: string]: unknown;
}

export async function readManifest(dir: string): Promise<PluginManifest> {
  return JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as PluginManifest;
}

/** Numerically stable softmax of one row. */
export function softmax(logits: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(logits));
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function outputByRole(m: PluginManifest, role: PluginManifest['outputs'][number]['role']): string {
  const o = m.outputs.find((x) => x.role === role);
  if (!o) throw new Error(`${m.name}: manifest has no output with role ${role}`);
  return o.name;
}

export class PluginRunner {
  private constructor(
    readonly dir: string,
    readonly manifest: PluginManifest,
    readonly session: ort.InferenceSession,
  ) {}

  static async open(dir: string): Promise<PluginRunner> {
    const manifest = await readManifest(dir);
    const session = await ort.InferenceSession.create(path.join(dir, manifest.modelFile), {
      executionProviders: ['cpu'],
      intraOpNumThreads: manifest.threads?.intraOp ?? 1,
      interOpNumThreads: manifest.threads?.interOp ?? 1,
    });
    return new PluginRunner(dir, manifest, session);
  }

  /** Image file to the model's input tensor (no batch axis). */
  async tensor(image: string | Buffer): Promise<Float32Array> {
    return (await imageToTensor(image, this.manifest.input)).tensor;
  }

  /** Runs a batch of input tensors; returns every output by name. */
  async runTensors(tensors: Float32Array[]): Promise<ort.InferenceSession.OnnxValueMapType> {
    const per = tensors[0].length;
    const batch = new Float32Array(per * tensors.length);
    tensors.forEach((t, i) => batch.set(t, i * per));
    const feeds = {
      [this.manifest.input.name]: new ort.Tensor('float32', batch, batchShape(tensors.length, this.manifest.input)),
    };
    return this.session.run(feeds);
  }

  /** Class probabilities per image (softmax or sigmoid of the logits, as the manifest says). */
  async classify(images: (string | Buffer)[]): Promise<number[][]> {
    const out = await this.runTensors(await Promise.all(images.map((i) => this.tensor(i))));
    const pp = this.manifest.postprocess.activation;
    const probOut = this.manifest.outputs.find((o) => o.role === 'probabilities');
    const t = out[probOut ? probOut.name : outputByRole(this.manifest, 'logits')];
    const k = t.dims[1];
    const data = t.data as Float32Array;
    return images.map((_, i) => {
      const row = Array.from(data.subarray(i * k, (i + 1) * k));
      if (probOut || pp === 'none') return row;
      return pp === 'softmax' ? softmax(row) : row.map((v) => 1 / (1 + Math.exp(-v)));
    });
  }

  /** P(malignant) per image: the summed probability of the malignant labels. */
  async malignantProbability(images: (string | Buffer)[]): Promise<number[]> {
    const labels = this.manifest.labels ?? [];
    const malignant = new Set(this.manifest.malignantLabels ?? []);
    return (await this.classify(images)).map((p) => p.reduce((s, v, i) => s + (malignant.has(labels[i]) ? v : 0), 0));
  }

  /** Per-pixel lesion probability, H x W, of one image. */
  async segment(image: string | Buffer): Promise<{ mask: Float32Array; width: number; height: number }> {
    const out = await this.runTensors([await this.tensor(image)]);
    const t = out[outputByRole(this.manifest, 'mask')];
    const [, , height, width] = t.dims;
    let mask = t.data as Float32Array;
    if (this.manifest.postprocess.activation === 'sigmoid') mask = mask.map((v) => 1 / (1 + Math.exp(-v)));
    return { mask, width, height };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
