/**
 * The classifier head: the part of an ONNX graph between the feature-map output (A) and the
 * logits output. Grad-CAM needs d logit / d A, which ONNX Runtime cannot give, so the head is
 * re-run here in float64 from its initializers and differentiated by reverse mode.
 */
import { HEAD_OPS } from './head-ops';
import { size, type Tensor, UnsupportedHeadError } from './head-tensor';
import type { OnnxModel, OnnxNode, OnnxTensor } from './onnx-proto';

export interface ClassifierHead {
  featuresName: string;
  logitsName: string;
  opset: number;
  /** Nodes that depend on the features, in graph (topological) order. */
  nodes: OnnxNode[];
  /** Initializers and constant-folded values the nodes read. */
  constants: Map<string, Tensor>;
}

export type HeadPlan = { differentiable: true; head: ClassifierHead } | { differentiable: false; reason: string };

function toTensor(t: OnnxTensor): Tensor {
  if (!t.values)
    throw new UnsupportedHeadError(
      `tensor ${t.name} has data type ${t.dataType}, which the head reader does not decode`,
    );
  return { dims: t.dims, data: t.values };
}

/** A Constant node's value (the `value*` attribute forms of onnx's Constant operator). */
function constantValue(node: OnnxNode): Tensor {
  for (const [name, a] of node.attributes) {
    if (name === 'value' && a.kind === 'tensor') return toTensor(a.value);
    if (name === 'value_float' && a.kind === 'float') return { dims: [], data: Float64Array.of(a.value) };
    if (name === 'value_int' && a.kind === 'int') return { dims: [], data: Float64Array.of(a.value) };
    if ((name === 'value_floats' && a.kind === 'floats') || (name === 'value_ints' && a.kind === 'ints')) {
      return { dims: [a.value.length], data: Float64Array.from(a.value) };
    }
  }
  throw new UnsupportedHeadError(`Constant ${node.name} has no numeric value`);
}

/** Nodes the logits need, walking producers back from the logits until the features or constants. */
function nodesNeeded(model: OnnxModel, featuresName: string, logitsName: string): OnnxNode[] {
  const { graph } = model;
  const producer = new Map<string, OnnxNode>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  const needed = new Set<OnnxNode>();
  const pending = [logitsName];
  const seen = new Set<string>();
  while (pending.length) {
    const name = pending.pop()!;
    if (name === '' || name === featuresName || seen.has(name) || graph.initializers.has(name)) continue;
    seen.add(name);
    const node = producer.get(name);
    if (!node)
      throw new UnsupportedHeadError(`the logits depend on graph input "${name}" other than through the feature map`);
    needed.add(node);
    pending.push(...node.inputs);
  }
  return graph.nodes.filter((n) => needed.has(n));
}

/**
 * Finds the head and checks every op in it can be run and differentiated here. Constant parts
 * (Constant nodes, shapes from initializers) are folded now so each request only runs the rest.
 */
export function planHead(model: OnnxModel, featuresName: string, logitsName: string): HeadPlan {
  try {
    if (!model.graph.outputs.includes(featuresName))
      throw new UnsupportedHeadError(`"${featuresName}" is not an output of the graph`);
    if (!model.graph.outputs.includes(logitsName))
      throw new UnsupportedHeadError(`"${logitsName}" is not an output of the graph`);
    const constants = new Map<string, Tensor>();
    const dynamic = new Set<string>([featuresName]);
    const secondary = new Set<string>();
    const nodes: OnnxNode[] = [];
    for (const node of nodesNeeded(model, featuresName, logitsName)) {
      if (node.domain !== '' && node.domain !== 'ai.onnx')
        throw new UnsupportedHeadError(`operator ${node.domain}.${node.opType} is outside the ONNX domain`);
      for (const i of node.inputs) {
        const init = model.graph.initializers.get(i);
        if (init && !constants.has(i)) constants.set(i, toTensor(init));
      }
      const unmade = node.inputs.find((i) => secondary.has(i));
      if (unmade)
        throw new UnsupportedHeadError(
          `${node.opType} (${node.name || 'unnamed'}) reads "${unmade}", a second output the head does not compute`,
        );
      const isDynamic = node.inputs.some((i) => dynamic.has(i));
      if (node.opType === 'Constant') {
        constants.set(node.outputs[0], constantValue(node));
        continue;
      }
      const op = HEAD_OPS[node.opType];
      if (!op || (isDynamic && !op.backward))
        throw new UnsupportedHeadError(
          `operator ${node.opType} (${node.name || 'unnamed'}) cannot be differentiated here`,
        );
      if (isDynamic) {
        // the ops here compute their first output only (Dropout's mask, for one, is never made)
        dynamic.add(node.outputs[0]);
        node.outputs.slice(1).forEach((o) => secondary.add(o));
        nodes.push(node);
      } else {
        // depends on constants only: fold it once
        const inputs = node.inputs.map((i) => constants.get(i));
        constants.set(node.outputs[0], op.forward({ node, opset: model.opset, inputs }));
      }
    }
    if (!dynamic.has(logitsName)) throw new UnsupportedHeadError('the logits do not depend on the feature map');
    return { differentiable: true, head: { featuresName, logitsName, opset: model.opset, nodes, constants } };
  } catch (e) {
    if (e instanceof UnsupportedHeadError) return { differentiable: false, reason: e.message };
    throw e;
  }
}

export interface HeadGradient {
  /** Logits of the single image, float64. */
  logits: Float64Array;
  /** d logits[target] / d features, same layout as the features. */
  gradFeatures: Float64Array;
}

/**
 * Runs the head on one image's feature map (dims with the batch axis, e.g. [1, C, H, W]) and
 * backpropagates the chosen logit (a function of the logits, so the caller can pick argmax).
 */
export function headGradient(
  head: ClassifierHead,
  features: Tensor,
  pickTarget: (logits: Float64Array) => number,
): HeadGradient & { target: number } {
  if (features.dims[0] !== 1) throw new Error(`headGradient takes one image (batch axis 1), got [${features.dims}]`);
  const values = new Map<string, Tensor>(head.constants);
  values.set(head.featuresName, features);
  const calls = head.nodes.map((node) => {
    const call = { node, opset: head.opset, inputs: node.inputs.map((i) => (i === '' ? undefined : values.get(i))) };
    const out = HEAD_OPS[node.opType].forward(call);
    values.set(node.outputs[0], out);
    return { call, out };
  });
  const logits = values.get(head.logitsName)!;
  if (logits.data.length !== size(logits.dims) || logits.dims[0] !== 1)
    throw new UnsupportedHeadError(`logits have shape [${logits.dims}], expected [1, K]`);
  const target = pickTarget(logits.data);

  const grads = new Map<string, Float64Array>();
  const seed = new Float64Array(logits.data.length);
  seed[target] = 1;
  grads.set(head.logitsName, seed);
  for (let i = calls.length - 1; i >= 0; i--) {
    const { call, out } = calls[i];
    const g = grads.get(call.node.outputs[0]);
    if (!g) continue; // this branch does not reach the chosen logit
    const wants = call.node.inputs.map((name) => name !== '' && !head.constants.has(name));
    const inputGrads = HEAD_OPS[call.node.opType].backward!(call, out, g, wants);
    call.node.inputs.forEach((name, k) => {
      const gi = inputGrads[k];
      if (!gi || !wants[k]) return;
      const acc = grads.get(name);
      if (!acc) grads.set(name, Float64Array.from(gi));
      else for (let j = 0; j < acc.length; j++) acc[j] += gi[j];
    });
  }
  return {
    logits: logits.data,
    target,
    gradFeatures: grads.get(head.featuresName) ?? new Float64Array(features.data.length),
  };
}
