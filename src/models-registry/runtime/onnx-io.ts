import type { InferenceSession } from 'onnxruntime-node';
import type { ModelSession } from './threaded-session';
import type { Manifest } from '../package/manifest';
import { packageError } from '../errors';

type Dim = number | string;

/** The declared shape of a tensor from onnxruntime's metadata; undefined when it is not a tensor. */
function tensorMeta(
  meta: readonly InferenceSession.ValueMetadata[],
  name: string,
): { type: string; shape: readonly Dim[] } | undefined {
  const m = meta.find((x) => x.name === name);
  if (!m || !m.isTensor) return undefined;
  return { type: m.type, shape: m.shape };
}

const isDynamic = (d: Dim) => typeof d === 'string' || d < 0;
/** A fixed dimension must equal `want`; a symbolic one is accepted (checked again by the golden run). */
const fits = (d: Dim, want: number) => isDynamic(d) || d === want;
const show = (shape: readonly Dim[]) => `[${shape.join(', ')}]`;

/**
 * Checks that the ONNX graph agrees with the manifest: the one input by name, type and shape
 * (batch axis dynamic, 3 channels, the manifest's size in its layout), and every output the
 * manifest names, with a shape that fits its role. Extra model outputs are allowed and never fetched.
 */
export function checkModelIo(session: ModelSession, m: Manifest): void {
  const fail = (field: string, message: string) => {
    throw packageError('onnx.io', message, field);
  };
  const inputs = session.inputNames;
  if (!inputs.includes(m.input.name))
    fail('input.name', `the model has no input "${m.input.name}" (it has: ${inputs.join(', ')})`);
  if (inputs.length !== 1)
    fail('input.name', `the model takes ${inputs.length} inputs (${inputs.join(', ')}); a package feeds exactly one`);
  const input = tensorMeta(session.inputMetadata, m.input.name);
  if (!input) return fail('input.name', `input "${m.input.name}" is not a tensor`);
  if (input.type !== m.input.dtype)
    fail('input.dtype', `the model's input is ${input.type}, the manifest says ${m.input.dtype}`);
  const want = m.input.layout === 'NCHW' ? [3, m.input.height, m.input.width] : [m.input.height, m.input.width, 3];
  const shapeOk = input.shape.length === 4 && want.every((w, i) => fits(input.shape[i + 1], w));
  if (!shapeOk)
    fail(
      'input',
      `the model's input shape ${show(input.shape)} does not fit ${m.input.layout} [N, ${want.join(', ')}]`,
    );
  const batch = input.shape[0];
  if (!isDynamic(batch) && !(batch === 1 && m.batching.maxBatch === 1)) {
    fail(
      'input',
      `the model's batch axis is fixed at ${batch}; export it dynamic (or set batching.maxBatch to 1 for a batch of 1)`,
    );
  }

  const outputs = session.outputNames;
  m.outputs.forEach((o, i) => {
    const field = `outputs[${i}].name`;
    if (!outputs.includes(o.name)) fail(field, `the model has no output "${o.name}" (it has: ${outputs.join(', ')})`);
    const meta = tensorMeta(session.outputMetadata, o.name);
    if (!meta) return fail(field, `output "${o.name}" is not a tensor`);
    if (meta.type !== 'float32') fail(field, `output "${o.name}" is ${meta.type}; float32 expected`);
    const s = meta.shape;
    if (o.role === 'logits' || o.role === 'probabilities') {
      const n = m.labels?.length ?? 0;
      if (s.length !== 2 || !fits(s[1], n))
        fail(field, `output "${o.name}" has shape ${show(s)}; [N, ${n}] expected (one per label)`);
    } else if (o.role === 'mask') {
      if (s.length !== 4 || !fits(s[1], 1))
        fail(field, `output "${o.name}" has shape ${show(s)}; a mask is [N, 1, H, W]`);
    } else if (s.length !== 4) {
      fail(field, `output "${o.name}" has shape ${show(s)}; a Grad-CAM feature map is [N, C, H, W]`);
    }
  });
}
