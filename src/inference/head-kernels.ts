/**
 * Operator families of the classifier head, forward and backward: elementwise (binary with
 * broadcasting, unary), shape-only, means, Gemm/MatMul and inference-mode BatchNormalization.
 * head-ops.ts instantiates them per ONNX op type.
 */
import {
  attrInts,
  attrNumber,
  axesOf,
  broadcastDims,
  broadcastIndex,
  need,
  normaliseAxis,
  type OpCall,
  type OpImpl,
  size,
  type Tensor,
  unbroadcast,
  UnsupportedHeadError,
} from './head-tensor';

/** Elementwise binary op with broadcasting; `da`/`db` are the partial derivatives at (a, b). */
export function binary(
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
export function unary(
  f: (x: number, call: OpCall) => number,
  d: (x: number, y: number, call: OpCall) => number,
): OpImpl {
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
export function reshapeLike(outDims: (call: OpCall) => number[]): OpImpl {
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

export function reshapeDims(call: OpCall): number[] {
  const x = need(call, 0);
  const shape = Array.from(need(call, 1).data);
  const allowZero = attrNumber(call.node, 'allowzero', 0) === 1;
  const dims = shape.map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
  const known = size(dims.filter((d) => d !== -1));
  return dims.map((d) => (d === -1 ? x.data.length / known : d));
}

export function flattenDims(call: OpCall): number[] {
  const x = need(call, 0);
  const axis = attrNumber(call.node, 'axis', 1);
  const a = axis < 0 ? axis + x.dims.length : axis;
  return [size(x.dims.slice(0, a)), size(x.dims.slice(a))];
}

export function squeezeDims(call: OpCall): number[] {
  const x = need(call, 0);
  const axes = axesOf(call, 1)?.map((a) => normaliseAxis(a, x.dims.length));
  return x.dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
}

export function unsqueezeDims(call: OpCall): number[] {
  const x = need(call, 0);
  const rank = x.dims.length + (axesOf(call, 1)?.length ?? 0);
  const axes = (axesOf(call, 1) ?? []).map((a) => normaliseAxis(a, rank));
  const dims: number[] = [];
  for (let i = 0, j = 0; i < rank; i++) dims.push(axes.includes(i) ? 1 : x.dims[j++]);
  return dims;
}

/** Mean over `axes` (all when empty), as ReduceMean and GlobalAveragePool compute it. */
export function meanOver(axesFor: (call: OpCall, x: Tensor) => number[], keepFor: (call: OpCall) => boolean): OpImpl {
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

export const reduceMeanAxes = (call: OpCall, x: Tensor): number[] => {
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

export function gemmLike(
  params: (call: OpCall) => { alpha: number; beta: number; transA: boolean; transB: boolean },
): OpImpl {
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
export const batchNorm: OpImpl = (() => {
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
