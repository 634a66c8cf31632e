import type { Tensor } from './head-tensor';
import { headGradient, planHead } from './onnx-head';
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor } from './onnx-proto';

/** Hand-built graphs (no file): features [1, 2, 1, 2] -> ... -> logits. */
function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, OnnxAttribute> = {},
  domain = '',
): OnnxNode {
  return {
    opType,
    domain,
    name: `${opType}_${outputs[0]}`,
    inputs,
    outputs,
    attributes: new Map(Object.entries(attributes)),
  };
}
function init(name: string, dims: number[], values: number[]): OnnxTensor {
  return { name, dims, dataType: 1, values: Float64Array.from(values) };
}
function model(nodes: OnnxNode[], initializers: OnnxTensor[] = [], opset = 17): OnnxModel {
  return {
    irVersion: 8,
    opset,
    graph: {
      nodes,
      initializers: new Map(initializers.map((t) => [t.name, t])),
      inputs: ['input'],
      outputs: ['logits', 'features'],
    },
  };
}
const backbone = node('Relu', ['input'], ['features']);
// A = channel 0: [1, 3], channel 1: [2, -2]
const features: Tensor = { dims: [1, 2, 1, 2], data: Float64Array.of(1, 3, 2, -2) };

describe('planHead and headGradient on hand-built heads', () => {
  it('ReduceMean with axes as an input (opset 18), Constant-folded axes, Unsqueeze/Squeeze, MatMul', () => {
    const m = model(
      [
        backbone,
        node('Constant', [], ['axes'], {
          value: { kind: 'tensor', value: { name: '', dims: [2], dataType: 7, values: Float64Array.of(2, 3) } },
        }),
        node('ReduceMean', ['features', 'axes'], ['pooled'], { keepdims: { kind: 'int', value: 0 } }), // [1, 2]
        node('Unsqueeze', ['pooled', 'one'], ['u']), // [1, 1, 2]
        node('Squeeze', ['u', 'one'], ['s']), // [1, 2]
        node('MatMul', ['s', 'W'], ['logits']), // W [2, 2]
      ],
      [init('W', [2, 2], [1, 2, 3, 4]), { name: 'one', dims: [1], dataType: 7, values: Float64Array.of(1) }],
      18,
    );
    const plan = planHead(m, 'features', 'logits');
    if (!plan.differentiable) throw new Error(plan.reason);
    expect(plan.head.nodes.map((n) => n.opType)).toEqual(['ReduceMean', 'Unsqueeze', 'Squeeze', 'MatMul']);
    // pooled = [2, 0]; logits = pooled W = [2*1 + 0*3, 2*2 + 0*4] = [2, 4]
    const r = headGradient(plan.head, features, () => 1);
    expect(Array.from(r.logits)).toEqual([2, 4]);
    // d logit1 / d pooled = W[:, 1] = [2, 4]; / (H*W = 2) on every cell
    expect(Array.from(r.gradFeatures)).toEqual([1, 1, 2, 2]);
  });

  it('Reshape with a constant shape (0 and -1), Gemm alpha/beta/transA, Sub and Div broadcasting', () => {
    const m = model(
      [
        backbone,
        node('GlobalAveragePool', ['features'], ['gap']), // [1, 2, 1, 1] = [2, 0]
        node('Reshape', ['gap', 'shape'], ['flat']), // [0, -1] -> [1, 2]
        node('Sub', ['flat', 'mu'], ['centred']), // - [1, 1] -> [1, -1]
        node('Div', ['centred', 'two'], ['scaled']), // / 2 -> [0.5, -0.5]
        node('Transpose', ['scaled'], ['t'], {}, 'com.example'),
        node('Gemm', ['t', 'W', 'b'], ['logits'], {
          alpha: { kind: 'float', value: 2 },
          beta: { kind: 'float', value: 0.5 },
          transA: { kind: 'int', value: 1 },
        }),
      ],
      [
        init('shape', [2], [0, -1]),
        init('mu', [2], [1, 1]),
        init('two', [], [2]),
        init('W', [2, 3], [1, 2, 3, 4, 5, 6]),
        init('b', [3], [2, 4, 6]),
      ],
    );
    expect(planHead(m, 'features', 'logits')).toEqual({
      differentiable: false,
      reason: 'operator com.example.Transpose is outside the ONNX domain',
    });
    m.graph.nodes[5] = node('Transpose', ['scaled'], ['t']);
    expect(planHead(m, 'features', 'logits')).toEqual({
      differentiable: false,
      reason: 'operator Transpose (Transpose_t) cannot be differentiated here',
    });
    m.graph.nodes[5] = node('Reshape', ['scaled', 'col'], ['t']); // [2, 1], so Gemm's transA gives back [1, 2]
    m.graph.initializers.set('col', init('col', [2], [-1, 1]));
    const plan = planHead(m, 'features', 'logits');
    if (!plan.differentiable) throw new Error(plan.reason);
    // A' = t^T = [0.5, -0.5]; A'W = [0.5 - 2, 1 - 2.5, 1.5 - 3] = [-1.5, -1.5, -1.5]; * 2 + 0.5 * b = [-2, -1, 0]
    const r = headGradient(plan.head, features, () => 2);
    expect(Array.from(r.logits)).toEqual([-2, -1, 0]);
    expect(r.target).toBe(2);
    // d logit2 / d A' = 2 * W[:, 2] = [6, 12]; Div by 2 -> [3, 6]; Sub passes; GAP spreads over 2 cells
    expect(Array.from(r.gradFeatures)).toEqual([1.5, 1.5, 3, 3]);
  });

  it('refuses a head that reads a second output it does not compute', () => {
    const m = model([backbone, node('Dropout', ['features'], ['d', 'mask']), node('Add', ['d', 'mask'], ['logits'])]);
    const plan = planHead(m, 'features', 'logits');
    expect(plan).toEqual({
      differentiable: false,
      reason: 'Add (Add_logits) reads "mask", a second output the head does not compute',
    });
  });
});
