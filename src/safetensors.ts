/**
 * decision-tree-reward/safetensors: tensor files. safetensors read and written without any
 * dependency (streamed, for files larger than memory), and embeddings files (`dtr embed`'s
 * output: pooled states with their ratings, in RLHFlow's layout), written in checkpointed shards.
 *
 * @example
 * ```ts
 * import { readEmbeddingsFile, writeSafetensors } from 'decision-tree-reward/safetensors';
 * const emb = readEmbeddingsFile('emb.safetensors');
 * emb.rows; emb.hiddenSize; // e.g. 80, 4096
 * writeSafetensors('weights.safetensors', { weight: { dtype: 'F32', shape: [5, 4096], data: new Float32Array(5 * 4096) } });
 * ```
 *
 * May import: any module of src/ (an entry point sits above every layer); it defines nothing itself.
 *
 * @packageDocumentation
 */
export {
  readSafetensors,
  readSafetensorsHeader,
  parseSafetensors,
  serializeSafetensors,
  writeSafetensors,
  SafetensorsStreamWriter,
  SafeTensor,
  SAFETENSORS_DTYPES,
} from './io/safetensors.js';
export type {
  SafetensorsDtype,
  SafetensorsEntry,
  SafetensorsHeader,
  SafetensorsFile,
  TensorInput,
  TensorSpec,
  WritableDtype,
} from './io/safetensors.js';
export { readEmbeddingsFile, EmbeddingsWriter, EMBEDDINGS_FORMAT } from './io/embeddings.js';
export type { EmbeddingsFile, EmbeddingsWriterOptions } from './io/embeddings.js';
