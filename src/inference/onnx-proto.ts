/**
 * A small reader for the parts of an ONNX file (protobuf, onnx.proto) that Grad-CAM needs: the
 * graph's nodes with their attributes, its initializers, inputs and outputs. Written against
 * the field numbers of onnx.proto (onnx 1.12) so the server needs no protobuf dependency;
 * unknown fields are skipped as protobuf requires, so newer files still read.
 */

/** TensorProto.DataType values this reader can turn into numbers. */
const DTYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Values as float64, row-major; null for data types this reader does not decode. */
  values: Float64Array | null;
}

export type OnnxAttribute =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: OnnxTensor }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'other' };

export interface OnnxNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: string[];
  outputs: string[];
}

export interface OnnxModel {
  irVersion: number;
  /** Version of the default ('' / ai.onnx) operator set. */
  opset: number;
  graph: OnnxGraph;
}

export class OnnxParseError extends Error {
  constructor(message: string) {
    super(`ONNX parse error: ${message}`);
    this.name = 'OnnxParseError';
  }
}

/** Protobuf wire-format cursor over one message's bytes. */
class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Varint as a signed 64-bit value, converted to a JS number (exact up to 2^53). */
  varint(): number {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new OnnxParseError('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
      if (shift > 70n) throw new OnnxParseError('varint too long');
    }
    return Number(BigInt.asIntN(64, result));
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.buf.length)
      throw new OnnxParseError('length-delimited field runs past its message');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  float32(): number {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  float64(): number {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new OnnxParseError(`unsupported wire type ${wireType}`);
  }

  /** Calls `onField(field, wireType)` for each field; the callback reads or skips the value. */
  fields(onField: (field: number, wireType: number) => void): void {
    while (!this.done) {
      const key = this.varint();
      const before = this.pos;
      onField(Math.floor(key / 8), key & 7);
      if (this.pos === before && (key & 7) !== 0) throw new OnnxParseError('field handler consumed nothing');
    }
  }
}

/** A repeated scalar field, in either packed (wire type 2) or one-per-tag form. */
function repeated(r: Reader, wireType: number, one: (r: Reader) => number, into: number[]): void {
  if (wireType !== 2) {
    into.push(one(r));
    return;
  }
  const inner = new Reader(r.bytes());
  while (!inner.done) into.push(one(inner));
}

const readVarint = (r: Reader) => r.varint();
const readFloat = (r: Reader) => r.float32();
const readDouble = (r: Reader) => r.float64();

/** raw_data bytes (little-endian per onnx.proto) to float64 values. */
function decodeRaw(raw: Uint8Array, dataType: number, count: number): Float64Array | null {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(count);
  const size = {
    [DTYPE.FLOAT]: 4,
    [DTYPE.DOUBLE]: 8,
    [DTYPE.INT32]: 4,
    [DTYPE.INT64]: 8,
    [DTYPE.UINT8]: 1,
    [DTYPE.INT8]: 1,
    [DTYPE.BOOL]: 1,
  }[dataType];
  if (size === undefined) return null;
  if (raw.byteLength !== count * size)
    throw new OnnxParseError(`raw_data holds ${raw.byteLength} bytes, expected ${count * size}`);
  for (let i = 0; i < count; i++) {
    const o = i * size;
    if (dataType === DTYPE.FLOAT) out[i] = view.getFloat32(o, true);
    else if (dataType === DTYPE.DOUBLE) out[i] = view.getFloat64(o, true);
    else if (dataType === DTYPE.INT32) out[i] = view.getInt32(o, true);
    else if (dataType === DTYPE.INT64) out[i] = Number(view.getBigInt64(o, true));
    else if (dataType === DTYPE.INT8) out[i] = view.getInt8(o);
    else out[i] = view.getUint8(o);
  }
  return out;
}

function parseTensor(bytes: Uint8Array): OnnxTensor {
  const r = new Reader(bytes);
  const dims: number[] = [];
  const typed: number[] = [];
  let dataType = 0;
  let name = '';
  let raw = null as Uint8Array | null;
  let external = false;
  r.fields((field, wt) => {
    if (field === 1) repeated(r, wt, readVarint, dims);
    else if (field === 2) dataType = r.varint();
    else if (field === 4) repeated(r, wt, readFloat, typed);
    else if (field === 5 || field === 7 || field === 11) repeated(r, wt, readVarint, typed);
    else if (field === 10) repeated(r, wt, readDouble, typed);
    else if (field === 8) name = r.string();
    else if (field === 9) raw = r.bytes();
    else if (field === 14) external = r.varint() === 1;
    else r.skip(wt);
  });
  if (external)
    throw new OnnxParseError(`tensor ${name} keeps its data in an external file; ship a single-file ONNX model`);
  const count = dims.reduce((a, b) => a * b, 1);
  let values: Float64Array | null;
  if (raw) values = decodeRaw(raw, dataType, count);
  else if (typed.length === count) values = Float64Array.from(typed);
  else values = count === 0 ? new Float64Array(0) : null;
  return { name, dims, dataType, values };
}

function parseAttribute(bytes: Uint8Array): [string, OnnxAttribute] {
  const r = new Reader(bytes);
  let name = '';
  let type = 0;
  let f = 0;
  let i = 0;
  let s = '';
  let t = null as OnnxTensor | null;
  const floats: number[] = [];
  const ints: number[] = [];
  r.fields((field, wt) => {
    if (field === 1) name = r.string();
    else if (field === 20) type = r.varint();
    else if (field === 2) f = r.float32();
    else if (field === 3) i = r.varint();
    else if (field === 4) s = r.string();
    else if (field === 5) t = parseTensor(r.bytes());
    else if (field === 7) repeated(r, wt, readFloat, floats);
    else if (field === 8) repeated(r, wt, readVarint, ints);
    else r.skip(wt);
  });
  // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7.
  const byType: Record<number, OnnxAttribute | undefined> = {
    1: { kind: 'float', value: f },
    2: { kind: 'int', value: i },
    3: { kind: 'string', value: s },
    4: t ? { kind: 'tensor', value: t } : undefined,
    6: { kind: 'floats', value: floats },
    7: { kind: 'ints', value: ints },
  };
  return [name, byType[type] ?? { kind: 'other' }];
}

function parseNode(bytes: Uint8Array): OnnxNode {
  const r = new Reader(bytes);
  const node: OnnxNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], attributes: new Map() };
  r.fields((field, wt) => {
    if (field === 1) node.inputs.push(r.string());
    else if (field === 2) node.outputs.push(r.string());
    else if (field === 3) node.name = r.string();
    else if (field === 4) node.opType = r.string();
    else if (field === 7) node.domain = r.string();
    else if (field === 5) {
      const [name, attr] = parseAttribute(r.bytes());
      node.attributes.set(name, attr);
    } else r.skip(wt);
  });
  return node;
}

/** ValueInfoProto: only its name (field 1) matters here. */
function parseValueInfoName(bytes: Uint8Array): string {
  const r = new Reader(bytes);
  let name = '';
  r.fields((field, wt) => (field === 1 ? (name = r.string()) : r.skip(wt)));
  return name;
}

function parseGraph(bytes: Uint8Array): OnnxGraph {
  const r = new Reader(bytes);
  const graph: OnnxGraph = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  r.fields((field, wt) => {
    if (field === 1) graph.nodes.push(parseNode(r.bytes()));
    else if (field === 5) {
      const t = parseTensor(r.bytes());
      graph.initializers.set(t.name, t);
    } else if (field === 11) graph.inputs.push(parseValueInfoName(r.bytes()));
    else if (field === 12) graph.outputs.push(parseValueInfoName(r.bytes()));
    else r.skip(wt);
  });
  return graph;
}

/** OperatorSetIdProto: domain 1, version 2. */
function parseOpset(bytes: Uint8Array): { domain: string; version: number } {
  const r = new Reader(bytes);
  let domain = '';
  let version = 0;
  r.fields((field, wt) => {
    if (field === 1) domain = r.string();
    else if (field === 2) version = r.varint();
    else r.skip(wt);
  });
  return { domain, version };
}

/** Parses a serialised ModelProto (the bytes of a .onnx file). */
export function parseOnnxModel(bytes: Uint8Array): OnnxModel {
  const r = new Reader(bytes);
  let irVersion = 0;
  let opset = 0;
  let graph = null as OnnxGraph | null;
  r.fields((field, wt) => {
    if (field === 1) irVersion = r.varint();
    else if (field === 7) graph = parseGraph(r.bytes());
    else if (field === 8) {
      const o = parseOpset(r.bytes());
      if (o.domain === '' || o.domain === 'ai.onnx') opset = o.version;
    } else r.skip(wt);
  });
  if (!graph) throw new OnnxParseError('the file holds no graph');
  return { irVersion, opset, graph };
}
