/**
 * Forward and backward (vector-Jacobian product) of the ONNX operators a classifier head after
 * the last feature map uses, on small float64 tensors. Backward formulas follow PyTorch's autograd
 * where ONNX leaves a kink open (Relu at 0, HardSwish at +-3, Clip at its bounds), so Grad-CAM
 * here equals Grad-CAM computed on the PyTorch model the file was exported from.
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
function attrInts(node: OnnxNode, name: string): number[] | undefined {
  const a = attr(node, name);
  return a && a.kind === 'ints' ? a.value : undefined;
}

/** Axes from the attribute (older opsets) or from the second input (newer ones). */
function axesOf(call: OpCall, inputIndex: number): number[] | undefined {
  const fromInput = call.inputs[inputIndex];
  if (fromInput) return Array.from(fromInput.data);
  return attrInts(call.node, 'axes');
}

function normaliseAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new UnsupportedHeadError(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

function need(call: OpCall, i: number): Tensor {
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
function unbroadcast(
  grad: Float64Array,
  map: Int32Array,
  inSize: number,
  scale: (i: number) => number = () => 1,
): Float64Array {
  const out = new Float64Array(inSize);
  for (let i = 0; i < grad.length; i++) out[map[i]] += grad[i] * scale(i);
  return out;
}

/** Elementwise binary op with broadcasting; `da`/`db` are the partial derivatives at (a, b). */
function binary(
  f: (a: number, b: number) => number,
  da: (a: number, b: number) => number,
  db: (a: number, b: number) => number,
): OpImpl {
  const maps = (call: OpCall) => {
    const [a, b] = [need(call, 0), need(call, 1)];
    const dims = broadcastDims(a.dims, b.dims);
    return { a, b, dims, ma: broadcastIndex(a.dims, dims), mb: broadcastIndex(b.dims, dims) };
  };
  return {
    forward(call) {
      const { a, b, dims, ma, mb } = maps(call);
      const data = new Float64Array(size(dims));
      for (let i = 0; i < data.length; i++) data[i] = f(a.data[ma[i]], b.data[mb[i]]);
      return { dims, data };
    },
    backward(call, _out, grad, wants) {
      const { a, b, ma, mb } = maps(call);
      return [
        wants[0] ? unbroadcast(grad, ma, a.data.length, (i) => da(a.data[ma[i]], b.data[mb[i]])) : undefined,
        wants[1] ? unbroadcast(grad, mb, b.data.length, (i) => db(a.data[ma[i]], b.data[mb[i]])) : undefined,
      ];
    },
  };
}

/** Elementwise unary op; `d` is dy/dx given x and y. */
function unary(f: (x: number, call: OpCall) => number, d: (x: number, y: number, call: OpCall) => number): OpImpl {
  return {
    forward(call) {
      const x = need(call, 0);
      return { dims: x.dims, data: x.data.map((v) => f(v, call)) };
    },
    backward(call, out, grad) {
      const x = need(call, 0).data;
      return [grad.map((g, i) => g * d(x[i], out.data[i], call))];
    },
  };
}

/** An op that only changes the shape: data and gradient pass through in the same flat order. */
function reshapeLike(outDims: (call: OpCall) => number[]): OpImpl {
  return {
    forward(call) {
      const x = need(call, 0);
      const dims = outDims(call);
      if (size(dims) !== x.data.length)
        throw new UnsupportedHeadError(`${call.node.opType}: cannot reshape [${x.dims}] to [${dims}]`);
      return { dims, data: x.data };
    },
    backward: (_call, _out, grad) => [grad],
  };
}

function reshapeDims(call: OpCall): number[] {
  const x = need(call, 0);
  const shape = Array.from(need(call, 1).data);
  const allowZero = attrNumber(call.node, 'allowzero', 0) === 1;
  const dims = shape.map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
  const known = size(dims.filter((d) => d !== -1));
  return dims.map((d) => (d === -1 ? x.data.length / known : d));
}

function flattenDims(call: OpCall): number[] {
  const x = need(call, 0);
  const axis = attrNumber(call.node, 'axis', 1);
  const a = axis < 0 ? axis + x.dims.length : axis;
  return [size(x.dims.slice(0, a)), size(x.dims.slice(a))];
}

function squeezeDims(call: OpCall): number[] {
  const x = need(call, 0);
  const axes = axesOf(call, 1)?.map((a) => normaliseAxis(a, x.dims.length));
  return x.dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
}

function unsqueezeDims(call: OpCall): number[] {
  const x = need(call, 0);
  const rank = x.dims.length + (axesOf(call, 1)?.length ?? 0);
  const axes = (axesOf(call, 1) ?? []).map((a) => normaliseAxis(a, rank));
  const dims: number[] = [];
  for (let i = 0, j = 0; i < rank; i++) dims.push(axes.includes(i) ? 1 : x.dims[j++]);
  return dims;
}

/** Mean over `axes` (all when empty), as ReduceMean and GlobalAveragePool compute it. */
function meanOver(axesFor: (call: OpCall, x: Tensor) => number[], keepFor: (call: OpCall) => boolean): OpImpl {
  const plan = (call: OpCall) => {
    const x = need(call, 0);
    const axes = axesFor(call, x);
    const kept = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
    const count = size(axes.map((a) => x.dims[a]));
    const dims = keepFor(call) ? kept : x.dims.filter((_, i) => !axes.includes(i));
    // each input element's slot in the (kept-dims) output
    return { x, dims, count, map: broadcastIndex(kept, x.dims) };
  };
  return {
    forward(call) {
      const { x, dims, count, map } = plan(call);
      const data = new Float64Array(size(dims));
      for (let i = 0; i < x.data.length; i++) data[map[i]] += x.data[i];
      for (let i = 0; i < data.length; i++) data[i] /= count;
      return { dims, data };
    },
    backward(call, _out, grad) {
      const { x, count, map } = plan(call);
      const gx = new Float64Array(x.data.length);
      for (let i = 0; i < gx.length; i++) gx[i] = grad[map[i]] / count;
      return [gx];
    },
  };
}

const reduceMeanAxes = (call: OpCall, x: Tensor): number[] => {
  const axes =
    call.opset >= 18 ? (call.inputs[1] ? Array.from(call.inputs[1].data) : undefined) : attrInts(call.node, 'axes');
  if (axes && axes.length) return axes.map((a) => normaliseAxis(a, x.dims.length));
  if (attrNumber(call.node, 'noop_with_empty_axes', 0) === 1) return [];
  return x.dims.map((_, i) => i);
};

/** Y = alpha * op(A) op(B) + beta * C for 2-D A and B, as Gemm (and MatMul with alpha 1, no C) define it. */
function matmul(call: OpCall, alpha: number, transA: boolean, transB: boolean) {
  const [A, B] = [need(call, 0), need(call, 1)];
  if (A.dims.length !== 2 || B.dims.length !== 2) {
    throw new UnsupportedHeadError(
      `${call.node.opType}: only 2-D operands are supported, got [${A.dims}] x [${B.dims}]`,
    );
  }
  const [M, K] = transA ? [A.dims[1], A.dims[0]] : A.dims;
  const [K2, N] = transB ? [B.dims[1], B.dims[0]] : B.dims;
  if (K !== K2) throw new UnsupportedHeadError(`${call.node.opType}: inner sizes differ (${K} vs ${K2})`);
  const ia = (m: number, k: number) => (transA ? k * M + m : m * K + k);
  const ib = (k: number, n: number) => (transB ? n * K + k : k * N + n);
  return { A, B, M, K, N, ia, ib, alpha };
}

function gemmLike(params: (call: OpCall) => { alpha: number; beta: number; transA: boolean; transB: boolean }): OpImpl {
  return {
    forward(call) {
      const p = params(call);
      const { A, B, M, K, N, ia, ib } = matmul(call, p.alpha, p.transA, p.transB);
      const data = new Float64Array(M * N);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += A.data[ia(m, k)] * B.data[ib(k, n)];
          data[m * N + n] = p.alpha * s;
        }
      }
      const C = call.inputs[2];
      if (C) {
        const map = broadcastIndex(C.dims, [M, N]);
        for (let i = 0; i < data.length; i++) data[i] += p.beta * C.data[map[i]];
      }
      return { dims: [M, N], data };
    },
    backward(call, _out, grad, wants) {
      const p = params(call);
      const { A, B, M, K, N, ia, ib } = matmul(call, p.alpha, p.transA, p.transB);
      const gA = wants[0] ? new Float64Array(A.data.length) : undefined;
      const gB = wants[1] ? new Float64Array(B.data.length) : undefined;
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          const g = p.alpha * grad[m * N + n];
          if (g === 0) continue;
          if (gA) for (let k = 0; k < K; k++) gA[ia(m, k)] += g * B.data[ib(k, n)];
          if (gB) for (let k = 0; k < K; k++) gB[ib(k, n)] += g * A.data[ia(m, k)];
        }
      }
      const C = call.inputs[2];
      const gC =
        C && wants[2] ? unbroadcast(grad, broadcastIndex(C.dims, [M, N]), C.data.length, () => p.beta) : undefined;
      return [gA, gB, gC];
    },
  };
}

/** Inference-mode BatchNormalization: a per-channel (axis 1) affine map. */
const batchNorm: OpImpl = (() => {
  const coefficients = (call: OpCall) => {
    const x = need(call, 0);
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => need(call, i).data);
    const eps = attrNumber(call.node, 'epsilon', 1e-5);
    const C = x.dims[1] ?? 1;
    const inner = size(x.dims.slice(2));
    const channel = (i: number) => Math.floor(i / inner) % C;
    const gain = (c: number) => scale[c] / Math.sqrt(variance[c] + eps);
    return { x, channel, gain, bias, mean };
  };
  return {
    forward(call) {
      const { x, channel, gain, bias, mean } = coefficients(call);
      return { dims: x.dims, data: x.data.map((v, i) => (v - mean[channel(i)]) * gain(channel(i)) + bias[channel(i)]) };
    },
    backward(call, _out, grad) {
      const { channel, gain } = coefficients(call);
      return [grad.map((g, i) => g * gain(channel(i)))];
    },
  };
})();

/** Clip bounds: attributes before opset 11, optional inputs 1 and 2 after. */
function clipBounds(call: OpCall): [number, number] {
  if (call.opset < 11) return [attrNumber(call.node, 'min', -Infinity), attrNumber(call.node, 'max', Infinity)];
  return [call.inputs[1]?.data[0] ?? -Infinity, call.inputs[2]?.data[0] ?? Infinity];
}

const hardSigmoidArg = (x: number, call: OpCall) =>
  attrNumber(call.node, 'alpha', 0.2) * x + attrNumber(call.node, 'beta', 0.5);
const passThrough: OpImpl = { forward: (call) => need(call, 0), backward: (_c, _o, grad) => [grad] };

/** Every operator a head may contain, by ONNX op type. */
export const HEAD_OPS: Record<string, OpImpl> = {
  Identity: passThrough,
  Dropout: passThrough, // inference: identity (its optional mask output is not used by heads)
  Flatten: reshapeLike(flattenDims),
  Reshape: reshapeLike(reshapeDims),
  Squeeze: reshapeLike(squeezeDims),
  Unsqueeze: reshapeLike(unsqueezeDims),
  GlobalAveragePool: meanOver(
    (_c, x) => x.dims.map((_, i) => i).slice(2),
    () => true,
  ),
  ReduceMean: meanOver(reduceMeanAxes, (call) => attrNumber(call.node, 'keepdims', 1) === 1),
  Gemm: gemmLike((call) => ({
    alpha: attrNumber(call.node, 'alpha', 1),
    beta: attrNumber(call.node, 'beta', 1),
    transA: attrNumber(call.node, 'transA', 0) === 1,
    transB: attrNumber(call.node, 'transB', 0) === 1,
  })),
  MatMul: gemmLike(() => ({ alpha: 1, beta: 0, transA: false, transB: false })),
  Add: binary(
    (a, b) => a + b,
    () => 1,
    () => 1,
  ),
  Sub: binary(
    (a, b) => a - b,
    () => 1,
    () => -1,
  ),
  Mul: binary(
    (a, b) => a * b,
    (_a, b) => b,
    (a) => a,
  ),
  Div: binary(
    (a, b) => a / b,
    (_a, b) => 1 / b,
    (a, b) => -a / (b * b),
  ),
  Relu: unary(
    (x) => Math.max(0, x),
    (x) => (x > 0 ? 1 : 0),
  ),
  LeakyRelu: unary(
    (x, c) => (x >= 0 ? x : attrNumber(c.node, 'alpha', 0.01) * x),
    (x, _y, c) => (x > 0 ? 1 : attrNumber(c.node, 'alpha', 0.01)),
  ),
  Sigmoid: unary(
    (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
    (_x, y) => y * (1 - y),
  ),
  Tanh: unary(Math.tanh, (_x, y) => 1 - y * y),
  HardSigmoid: unary(
    (x, c) => Math.min(1, Math.max(0, hardSigmoidArg(x, c))),
    (x, _y, c) => {
      const v = hardSigmoidArg(x, c);
      return v > 0 && v < 1 ? attrNumber(c.node, 'alpha', 0.2) : 0;
    },
  ),
  // x * relu6(x + 3) / 6; derivative as torch.nn.functional.hardswish's backward.
  HardSwish: unary(
    (x) => x * Math.min(1, Math.max(0, x / 6 + 0.5)),
    (x) => (x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1),
  ),
  Clip: unary(
    (x, c) => {
      const [lo, hi] = clipBounds(c);
      return Math.min(hi, Math.max(lo, x));
    },
    (x, _y, c) => {
      const [lo, hi] = clipBounds(c);
      return x >= lo && x <= hi ? 1 : 0;
    },
  ),
  BatchNormalization: batchNorm,
};
