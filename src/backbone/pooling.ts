/**
 * Pooling: what the backbone's outputs hold per conversation, as pure functions on arrays (no
 * onnxruntime). Pooling picks each row's last real token, wherever the padding sits (see
 * batching.ts), so scores do not depend on batch composition, order or padding side.
 *
 * May import: its own folder (backbone/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts. Never text/, anything above (tree/ ... cli/)
 * (test/import-graph.test.ts).
 */
import { ATTRIBUTE_COUNT } from '../attributes.js';
import { DtrError } from '../errors.js';
import type { BackboneBatch, BackboneKind, OutputTensor } from './types.js';

/**
 * One row per conversation of a batch's main output, by the backbone's kind: the last real
 * token's hidden state (`last_hidden_state`, pooled here), the graph's pooled state (`pooled`),
 * or the five rewards of a head fused in the graph (`rewards`, in the graph's column order).
 * @throws DtrError `E_SHAPE` when the output does not fit the kind; `E_BACKBONE` for NaN/Infinity.
 *
 * @example
 * ```ts
 * const { data, width } = pooledRows(outputs.main, batch, 'last_hidden_state'); // batch x hidden
 * ```
 */
export function pooledRows(output: OutputTensor, batch: BackboneBatch, kind: BackboneKind): { data: Float32Array; width: number } {
  if (kind === 'rewards') return rowsOf(output, batch.batch, ATTRIBUTE_COUNT, "kind 'rewards' (one column per attribute)");
  const data = kind === 'last_hidden_state' ? poolLastToken(output, batch) : rowsOf(output, batch.batch, null, "kind 'pooled'").data;
  return { data, width: data.length / batch.batch };
}

/**
 * The hidden state of each row's last real token from a `last_hidden_state` output
 * [batch, tokens, hidden]: index `length - 1` with right padding, the final position with left padding.
 * @throws DtrError `E_SHAPE` when the output's shape does not fit the batch; `E_BACKBONE` for NaN/Infinity.
 *
 * @example
 * ```ts
 * const pooled = poolLastToken(outputs.main, batch); // batch x hidden, row-major
 * ```
 */
export function poolLastToken(output: OutputTensor, batch: BackboneBatch): Float32Array {
  const [b, t, h] = output.dims;
  if (output.dims.length !== 3 || b !== batch.batch || t !== batch.length || h === undefined || h < 1) {
    throw new DtrError(
      'E_SHAPE',
      `output '${output.name}' has shape [${output.dims.join(', ')}]; expected [${batch.batch}, ${batch.length}, hidden] (batch, tokens, hidden) for kind last_hidden_state`,
      {
        hint: "set backbone.kind in dtr.json to 'pooled' ([batch, hidden]) or 'rewards' ([batch, 5]) if the graph pools already",
      },
    );
  }
  const out = new Float32Array(b * h);
  for (let row = 0; row < b; row++) {
    const pos = batch.paddingSide === 'right' ? batch.lengths[row]! - 1 : t - 1;
    const start = (row * t + pos) * h;
    out.set(output.data.subarray(start, start + h), row * h);
  }
  checkFinite(out, output.name, h);
  return out;
}

/**
 * Rows of a per-conversation output ([batch, width], or [batch] for width 1), checked.
 * @throws DtrError `E_SHAPE` stating the expected and actual shapes; `E_BACKBONE` for NaN/Infinity.
 *
 * @example
 * ```ts
 * const { data, width } = rowsOf(outputs.reward, batch.batch, null, 'the backbone reward'); // width 1
 * ```
 */
export function rowsOf(output: OutputTensor, batch: number, width: number | null, what: string): { data: Float32Array; width: number } {
  const dims = output.dims;
  const ok =
    (dims.length === 2 && dims[0] === batch && (width === null || dims[1] === width)) ||
    (dims.length === 1 && dims[0] === batch && (width === null || width === 1));
  if (!ok) {
    throw new DtrError(
      'E_SHAPE',
      `output '${output.name}' has shape [${dims.join(', ')}]; expected [${batch}, ${width ?? 'hidden'}] for ${what}`,
    );
  }
  const w = dims.length === 2 ? dims[1]! : 1;
  checkFinite(output.data, output.name, w);
  return { data: output.data, width: w };
}

function checkFinite(data: Float32Array, name: string, width: number): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new DtrError(
        'E_BACKBONE',
        `output '${name}' holds ${data[i]} (row ${Math.floor(i / width)}, column ${i % width}): the backbone produced a non-finite value`,
        {
          hint: 'a float16 export can overflow; try a float32 export or the CPU provider',
        },
      );
    }
  }
}
