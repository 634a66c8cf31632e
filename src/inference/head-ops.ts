/**
 * Forward and backward (vector-Jacobian product) of the ONNX operators a classifier head after
 * the last feature map uses, on small float64 tensors. Backward formulas follow PyTorch's autograd
 * where ONNX leaves a kink open (Relu at 0, HardSwish at +-3, Clip at its bounds), so Grad-CAM
 * here equals Grad-CAM computed on the PyTorch model the file was exported from.
 */
import { attrNumber, need, type OpCall, type OpImpl } from './head-tensor';
import {
  batchNorm,
  binary,
  flattenDims,
  gemmLike,
  meanOver,
  reduceMeanAxes,
  reshapeDims,
  reshapeLike,
  squeezeDims,
  unary,
  unsqueezeDims,
} from './head-kernels';

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
