/**
 * Text files read strictly as UTF-8: bytes that are not UTF-8 are an error naming the file, the
 * line and the byte, never silently U+FFFD (which a tokenizer would then score as if it were text).
 *
 * May import: its own folder (io/) and the layers below it: util/ and the top-level attributes.ts, errors.ts,
 * version.ts. Never anything above (provenance.ts ... cli/) (test/import-graph.test.ts).
 */
import { createReadStream, readFileSync } from 'node:fs';
import { DtrError } from '../errors.js';

/** Where a UTF-8 text stops being UTF-8: the first ill-formed sequence. */
export interface InvalidUtf8 {
  /** Offset of its first byte in the data. */
  offset: number;
  /** The bytes that make it ill-formed (1 to 3). */
  bytes: number[];
  /** What is wrong, in words: `a truncated sequence`, `an overlong encoding`... */
  reason: string;
}

/**
 * The first ill-formed sequence of `bytes` (Unicode's Table 3-7 of well-formed UTF-8: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or null when all of it is UTF-8.
 *
 * @example
 * ```ts
 * findInvalidUtf8(Buffer.from([0x61, 0xc3])); // { offset: 1, bytes: [0xc3], reason: 'a truncated sequence' }
 * ```
 */
export function findInvalidUtf8(bytes: Uint8Array, from = 0): InvalidUtf8 | null {
  const n = bytes.length;
  let i = from;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else {
      const reason =
        b < 0xc0 ? 'a continuation byte without a lead byte' : b < 0xc2 ? 'an overlong encoding' : 'a byte that never occurs in UTF-8';
      return { offset: i, bytes: [b], reason };
    }
    for (let k = 1; k <= need; k++) {
      const c = i + k < n ? bytes[i + k]! : -1;
      if (c >= (k === 1 ? lo : 0x80) && c <= (k === 1 ? hi : 0xbf)) continue;
      if (k === 1 && c >= 0x80 && c <= 0xbf) {
        // A continuation byte outside the lead's range: the sequence would be well-formed but mean something UTF-8 forbids.
        const reason =
          b === 0xe0 || b === 0xf0 ? 'an overlong encoding' : b === 0xed ? 'a UTF-16 surrogate' : 'a code point beyond U+10FFFF';
        return { offset: i, bytes: [b, c], reason };
      }
      return { offset: i, bytes: Array.from(bytes.subarray(i, i + k)), reason: 'a truncated sequence' };
    }
    i += need + 1;
  }
  return null;
}

// Default TextDecoder: a leading byte order mark is dropped (not part of the text), nothing else.
const decoder = new TextDecoder('utf-8', { fatal: true });
const keepBom = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * What is wrong and where, for an error message: `line 3, byte 7: 0xFF, a byte that never occurs in UTF-8`.
 * `firstLine` numbers the first line of `bytes` (for a line of a larger file).
 */
export function describeInvalidUtf8(bytes: Uint8Array, bad: InvalidUtf8, firstLine = 1): { line: number; text: string } {
  let line = firstLine;
  let lineStart = 0;
  for (let i = 0; i < bad.offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  const shown = bad.bytes.map((x) => `0x${x.toString(16).toUpperCase().padStart(2, '0')}`).join(' ');
  return { line, text: `byte ${bad.offset - lineStart + 1} of the line: ${shown}, ${bad.reason}` };
}

function encodingError(name: string, bytes: Uint8Array, firstLine = 1): DtrError {
  const bad = findInvalidUtf8(bytes) ?? { offset: 0, bytes: [], reason: 'not UTF-8' };
  const { line, text } = describeInvalidUtf8(bytes, bad, firstLine);
  return new DtrError('E_ENCODING', `${name}:${line}: not valid UTF-8 (${text})`, {
    issues: [{ path: `${name}:${line}`, message: `not valid UTF-8 (${text})` }],
    hint: 'save the file as UTF-8 (from Latin-1, e.g.: iconv -f latin1 -t utf-8 FILE > FILE.utf8)',
  });
}

/**
 * Decodes UTF-8 strictly (a leading byte order mark is dropped); `E_ENCODING` names `name`, the
 * line and the byte of the first ill-formed sequence.
 *
 * @example
 * ```ts
 * decodeUtf8(Buffer.from('{"a": 1}\n{"b": "\xff"}', 'latin1'), 'rows.jsonl');
 * // DtrError E_ENCODING: rows.jsonl:2: not valid UTF-8 (byte 8 of the line: 0xFF, a byte that never occurs in UTF-8)
 * ```
 */
export function decodeUtf8(bytes: Uint8Array, name: string, options: { firstLine?: number; keepBom?: boolean } = {}): string {
  try {
    return (options.keepBom ? keepBom : decoder).decode(bytes);
  } catch {
    throw encodingError(name, bytes, options.firstLine);
  }
}

/**
 * Reads a text file strictly as UTF-8 (see {@link decodeUtf8}); `name` is how errors show the file.
 *
 * @example
 * ```ts
 * const text = readUtf8File('prompt.txt');
 * ```
 */
export function readUtf8File(path: string, name = path): string {
  return decodeUtf8(readFileSync(path), name);
}

/**
 * The lines of a text file, streamed and decoded strictly as UTF-8, numbered from 1 (`\n` ends a
 * line, a `\r` before it is dropped; a byte order mark before the first line is dropped). Splitting
 * on the byte 0x0A is safe: it never occurs inside a multi-byte UTF-8 sequence.
 *
 * @example
 * ```ts
 * for await (const { line, text } of readUtf8Lines('rows.jsonl')) console.log(line, text);
 * ```
 */
export async function* readUtf8Lines(path: string, name = path): AsyncGenerator<{ line: number; text: string }> {
  let line = 0;
  let rest: Buffer = Buffer.alloc(0);
  const decode = (bytes: Buffer): string => {
    line++;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    return decodeUtf8(bytes.subarray(0, end), name, { firstLine: line, keepBom: line > 1 });
  };
  for await (const chunk of createReadStream(path)) {
    let data = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    let nl: number;
    while ((nl = data.indexOf(0x0a)) >= 0) {
      const text = decode(data.subarray(0, nl));
      yield { line, text };
      data = data.subarray(nl + 1);
    }
    rest = Buffer.from(data);
  }
  if (rest.length > 0) {
    const text = decode(rest);
    yield { line, text };
  }
}
