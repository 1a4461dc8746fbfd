/**
 * A minimal writer of ONNX models (ModelProto, protobuf wire format), for small graphs this SDK
 * builds itself: the float64 Gemm used by ridge fitting and the tiny deterministic backbones of
 * the tests. Field numbers follow onnx/onnx.proto3. No dependency, no code execution: bytes in,
 * bytes out; onnxruntime validates the result when it loads it.
 *
 * It sits in io/ beside safetensors.ts because it writes a file format, for whoever needs a graph
 * (head/ort-linalg.ts, the test fixtures); backbone/ only ever reads ONNX, through onnxruntime.
 *
 * May import: its own folder (io/) and the layers below it: util/ and the top-level attributes.ts, errors.ts,
 * version.ts. Never anything above (provenance.ts ... cli/) (test/import-graph.test.ts).
 */

/** Element types this writer supports, by their onnx.proto TensorProto.DataType number. */
export const ONNX_TYPES = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16 } as const;
export type OnnxType = keyof typeof ONNX_TYPES;

/** A constant tensor (initializer or attribute value). Data is little-endian raw bytes or a typed array. */
export interface TensorSpec {
  name?: string;
  type: OnnxType;
  dims: readonly number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array;
  /**
   * Store the bytes outside the model (ONNX external data, as models over 2 GB must): the caller
   * writes `data` into the file `location` (relative to the model) at `offset`; the model only
   * records where. See {@link externalize}.
   */
  external?: { location: string; offset: number };
}

/** A graph input or output: a name, an element type and a shape (a string names a dynamic axis). */
export interface ValueSpec {
  name: string;
  type: OnnxType;
  shape: ReadonlyArray<number | string>;
}

/** A node attribute, typed explicitly so ints and floats never get confused. */
export type AttributeSpec =
  | { int: number }
  | { float: number }
  | { string: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { tensor: TensorSpec }
  | { graph: GraphSpec };

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: Readonly<Record<string, AttributeSpec>>;
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
  initializers?: readonly (TensorSpec & { name: string })[];
}

export interface ModelOptions {
  /** Default-domain opset (default 17). */
  opset?: number;
  /** IR version (default 8). */
  irVersion?: number;
  producer?: string;
  /** metadata_props written into the model. */
  metadata?: Readonly<Record<string, string>>;
}

class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    this.push(Uint8Array.from(out));
  }

  tag(field: number, wire: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): void {
    this.tag(field, 0);
    this.varint(value);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.push(data);
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): void {
    const inner = new Writer();
    build(inner);
    this.bytes(field, inner.finish());
  }

  float(field: number, value: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function writeTensor(w: Writer, t: TensorSpec): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, ONNX_TYPES[t.type]);
  if (t.name !== undefined) w.string(8, t.name);
  const expected = t.dims.reduce((a, b) => a * b, 1);
  const data = t.data;
  if (data.length !== expected)
    throw new RangeError(`tensor ${t.name ?? ''}: ${data.length} values for dims [${t.dims.join(', ')}] (${expected})`);
  if (t.external) {
    // external_data (13): location, offset, length; data_location (14) = EXTERNAL (1).
    const entries: Array<[string, string]> = [
      ['location', t.external.location],
      ['offset', String(t.external.offset)],
      ['length', String(data.byteLength)],
    ];
    for (const [key, value] of entries) {
      w.message(13, (kv) => {
        kv.string(1, key);
        kv.string(2, value);
      });
    }
    w.int(14, 1);
    return;
  }
  // raw_data is little-endian; typed arrays are little-endian on every platform Node supports.
  w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/**
 * Moves the named initializers of a graph to external data: returns the graph with those
 * tensors pointing into `location`, and the bytes to write there (offsets aligned to 16).
 *
 * @example
 * ```ts
 * const { graph: g, data } = externalize(graph, ['E'], 'model.onnx_data');
 * writeFileSync('model.onnx', buildModel(g));
 * writeFileSync('model.onnx_data', data);
 * ```
 */
export function externalize(graph: GraphSpec, names: readonly string[], location: string): { graph: GraphSpec; data: Uint8Array } {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const initializers = (graph.initializers ?? []).map((t) => {
    if (!names.includes(t.name)) return t;
    const pad = (16 - (offset % 16)) % 16;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    chunks.push(bytes);
    const spec = { ...t, external: { location, offset } };
    offset += bytes.length;
    return spec;
  });
  const data = new Uint8Array(offset);
  let o = 0;
  for (const c of chunks) {
    data.set(c, o);
    o += c.length;
  }
  return { graph: { ...graph, initializers }, data };
}

function writeValueInfo(w: Writer, v: ValueSpec): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, ONNX_TYPES[v.type]);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function writeAttribute(w: Writer, name: string, a: AttributeSpec): void {
  w.string(1, name);
  if ('int' in a) {
    w.int(3, a.int);
    w.int(20, 2);
  } else if ('float' in a) {
    w.float(2, a.float);
    w.int(20, 1);
  } else if ('string' in a) {
    w.string(4, a.string);
    w.int(20, 3);
  } else if ('ints' in a) {
    for (const i of a.ints) w.int(8, i);
    w.int(20, 7);
  } else if ('floats' in a) {
    for (const f of a.floats) w.float(7, f);
    w.int(20, 6);
  } else if ('tensor' in a) {
    w.message(5, (t) => writeTensor(t, a.tensor));
    w.int(20, 4);
  } else {
    w.message(6, (g) => writeGraph(g, a.graph));
    w.int(20, 5);
  }
}

function writeGraph(w: Writer, g: GraphSpec): void {
  g.nodes.forEach((n, i) => {
    w.message(1, (node) => {
      for (const input of n.inputs) node.string(1, input);
      for (const output of n.outputs) node.string(2, output);
      node.string(3, n.name ?? `${n.op}_${i}`);
      node.string(4, n.op);
      for (const [key, value] of Object.entries(n.attributes ?? {})) node.message(5, (attr) => writeAttribute(attr, key, value));
      if (n.domain) node.string(7, n.domain);
    });
  });
  w.string(2, g.name);
  for (const t of g.initializers ?? []) w.message(5, (tensor) => writeTensor(tensor, t));
  for (const v of g.inputs) w.message(11, (vi) => writeValueInfo(vi, v));
  for (const v of g.outputs) w.message(12, (vi) => writeValueInfo(vi, v));
}

/**
 * Serialises a graph as an ONNX model.
 *
 * @example
 * ```ts
 * const bytes = buildModel({
 *   name: 'gemm',
 *   nodes: [{ op: 'Gemm', inputs: ['A', 'B'], outputs: ['C'], attributes: { transA: { int: 1 } } }],
 *   inputs: [{ name: 'A', type: 'float64', shape: ['n', 'k'] }, { name: 'B', type: 'float64', shape: ['n', 'm'] }],
 *   outputs: [{ name: 'C', type: 'float64', shape: ['k', 'm'] }],
 * });
 * const session = await ort.InferenceSession.create(bytes);
 * ```
 */
export function buildModel(graph: GraphSpec, options: ModelOptions = {}): Uint8Array {
  const w = new Writer();
  w.int(1, options.irVersion ?? 8);
  w.string(2, options.producer ?? 'decision-tree-reward');
  w.message(7, (g) => writeGraph(g, graph));
  w.message(8, (op) => {
    op.string(1, '');
    op.int(2, options.opset ?? 17);
  });
  for (const [key, value] of Object.entries(options.metadata ?? {})) {
    w.message(14, (kv) => {
      kv.string(1, key);
      kv.string(2, value);
    });
  }
  return w.finish();
}
