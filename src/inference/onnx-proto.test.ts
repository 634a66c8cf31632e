import fs from 'node:fs';
import path from 'node:path';
import { FIXTURE_DIR } from './__fixtures__/load';
import { OnnxParseError, parseOnnxModel } from './onnx-proto';

describe('parseOnnxModel', () => {
  const bytes = fs.readFileSync(path.join(FIXTURE_DIR, 'gap-linear.onnx'));

  it('reads graph, opset, attributes and initializers (make_heads.py gap-linear, opset 17)', () => {
    const m = parseOnnxModel(bytes);
    expect(m.opset).toBe(17);
    expect(m.graph.inputs).toEqual(['input']);
    expect(m.graph.outputs).toEqual(['logits', 'features']);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Conv', 'Relu', 'ReduceMean', 'Gemm']);
    const mean = m.graph.nodes[4];
    expect(mean.attributes.get('axes')).toEqual({ kind: 'ints', value: [2, 3] });
    expect(mean.attributes.get('keepdims')).toEqual({ kind: 'int', value: 0 });
    const gemm = m.graph.nodes[5];
    expect(gemm.attributes.get('transB')).toEqual({ kind: 'int', value: 1 });
    expect(gemm.attributes.get('alpha')).toEqual({ kind: 'float', value: 1 });
    const w = m.graph.initializers.get(gemm.inputs[1])!;
    expect(w.dims).toEqual([3, 4]);
    expect(w.values).toHaveLength(12);
  });

  it('decodes negative int64 varints and unpacked repeated fields', () => {
    // TensorProto{dims: 2 (unpacked), data_type: INT64, int64_data: [-1, 5] (packed)} inside
    // GraphProto.initializer, inside ModelProto.graph: bytes written by hand from onnx.proto.
    const tensor = [
      0x08,
      0x02,
      0x10,
      0x07,
      0x3a,
      0x0b,
      ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
      0x05,
      0x42,
      0x01,
      0x73,
    ];
    const graph = [0x2a, tensor.length, ...tensor];
    const model = [0x08, 0x08, 0x3a, graph.length, ...graph];
    const m = parseOnnxModel(Uint8Array.from(model));
    expect(m.irVersion).toBe(8);
    const s = m.graph.initializers.get('s')!;
    expect(s.dims).toEqual([2]);
    expect(Array.from(s.values!)).toEqual([-1, 5]);
  });

  it('refuses truncated files and files without a graph', () => {
    expect(() => parseOnnxModel(bytes.subarray(0, bytes.length - 100))).toThrow(OnnxParseError);
    expect(() => parseOnnxModel(Uint8Array.from([0x08, 0x08]))).toThrow(/no graph/);
  });
});
