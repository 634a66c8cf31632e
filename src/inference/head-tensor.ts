/**
 * Tensors and operator plumbing for the classifier head (head-kernels.ts, head-ops.ts): the operator
 * interface, attribute readers and numpy broadcasting, forward and backward.
 */
import type { OnnxAttribute, OnnxNode } from './onnx-proto';

export interface Tensor {
  dims: number[];
  data: Float64Array;
}

/** The head uses something this module cannot run or differentiate: Grad-CAM falls back to Score-CAM. */
export class UnsupportedHeadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedHeadError';
  }
}

export interface OpCall {
  node: OnnxNode;
  opset: number;
  /** Inputs by position; undefined for an omitted optional input. */
  inputs: (Tensor | undefined)[];
}

export interface OpImpl {
  forward(call: OpCall): Tensor;
  /**
   * Gradient w.r.t. each input from the gradient of the (first) output; undefined = not
   * differentiable there or not wanted (`wants[i]` false: a weight, whose gradient Grad-CAM never reads).
   */
  backward?(call: OpCall, output: Tensor, grad: Float64Array, wants: readonly boolean[]): (Float64Array | undefined)[];
}

export const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attributes.get(name);
}
export function attrNumber(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a && (a.kind === 'int' || a.kind === 'float') ? a.value : fallback;
}
export function attrInts(node: OnnxNode, name: string): number[] | undefined {
  const a = attr(node, name);
  return a && a.kind === 'ints' ? a.value : undefined;
}

/** Axes from the attribute (older opsets) or from the second input (newer ones). */
export function axesOf(call: OpCall, inputIndex: number): number[] | undefined {
  const fromInput = call.inputs[inputIndex];
  if (fromInput) return Array.from(fromInput.data);
  return attrInts(call.node, 'axes');
}

export function normaliseAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new UnsupportedHeadError(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function need(call: OpCall, i: number): Tensor {
  const t = call.inputs[i];
  if (!t) throw new UnsupportedHeadError(`${call.node.opType} ${call.node.name}: input ${i} is missing`);
  return t;
}

/** Numpy broadcasting: the output shape of two operands. */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new UnsupportedHeadError(`cannot broadcast [${a}] with [${b}]`);
    out.push(Math.max(da, db));
  }
  return out;
}

/** Index maps by shape pair: a head sees the same few shapes on every request. */
const indexCache = new Map<string, Int32Array>();

/** For each flat index of `outDims`, the flat index of the operand of shape `inDims` broadcast to it. */
export function broadcastIndex(inDims: readonly number[], outDims: readonly number[]): Int32Array {
  const key = `${inDims.join(',')}|${outDims.join(',')}`;
  let map = indexCache.get(key);
  if (!map) {
    map = computeBroadcastIndex(inDims, outDims);
    if (indexCache.size >= 256) indexCache.clear();
    indexCache.set(key, map);
  }
  return map;
}

function computeBroadcastIndex(inDims: readonly number[], outDims: readonly number[]): Int32Array {
  const rank = outDims.length;
  const padded = [...new Array(rank - inDims.length).fill(1), ...inDims];
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    inStrides[i] = padded[i] === 1 ? 0 : s;
    s *= padded[i];
  }
  const n = size(outDims);
  const map = new Int32Array(n);
  for (let flat = 0; flat < n; flat++) {
    let rem = flat;
    let idx = 0;
    for (let i = rank - 1; i >= 0; i--) {
      idx += (rem % outDims[i]) * inStrides[i];
      rem = Math.floor(rem / outDims[i]);
    }
    map[flat] = idx;
  }
  return map;
}

/** Sums a gradient of the broadcast shape back onto the operand's own shape. */
export function unbroadcast(
  grad: Float64Array,
  map: Int32Array,
  inSize: number,
  scale: (i: number) => number = () => 1,
): Float64Array {
  const out = new Float64Array(inSize);
  for (let i = 0; i < grad.length; i++) out[map[i]] += grad[i] * scale(i);
  return out;
}
